using System.Net;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Review;

/// <summary>Pool and conflicts of interest on /Admin/Calls/{slug}/Reviewers (and the collaborators reviewers declare on their bidding page).</summary>
public sealed class ReviewersPageTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    [Fact]
    public async Task Conflicts_are_stored_with_reasons_and_webmail_domains_never_count()
    {
        var s = await steps.ClosedCallAsync("coi-call", "pi@lakeside.example.edu", "Lakeside Institute", coInvestigatorEmail: "coinvestigator@gmail.com");
        await ReviewSteps.ScreenPassAsync(s, s.Proposals[0]);
        await steps.ReviewerAsync(s, "colleague@lakeside.example.edu", "Lakeside Institute");
        await steps.ReviewerAsync(s, "independent@gmail.com", "Far Away College");
        var friend = await steps.ReviewerAsync(s, "friend@elsewhere.example.org", "Elsewhere");
        using (var declared = await friend.PostFormAsync($"/Reviews/{s.Slug}/Bids", new Dictionary<string, string> { ["CollaboratorEmail"] = "pi@lakeside.example.edu" }, $"/Reviews/{s.Slug}/Bids?handler=Collaborator"))
        {
            Assert.Equal(HttpStatusCode.Redirect, declared.StatusCode);
        }
        await using var db = factory.NewDbContext();
        // A declaration changes nothing at once (it would tell the reviewer who wrote what); the next detection binds it.
        Assert.False(await db.ReviewConflicts.AnyAsync(c => c.Source == ConflictSource.DeclaredCollaborator && c.ProposalId == s.Proposals[0]));
        using (var detected = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Reviewers", new Dictionary<string, string>(), $"/Admin/Calls/{s.Slug}/Reviewers?handler=Detect"))
        {
            Assert.Equal(HttpStatusCode.Redirect, detected.StatusCode);
        }

        var conflicts = await (from c in db.ReviewConflicts where c.ProposalId == s.Proposals[0] join u in db.Users on c.ReviewerUserId equals u.Id select new { u.Email, c.Source, c.Reason }).ToListAsync();
        Assert.Contains(conflicts, c => c.Email == "colleague@lakeside.example.edu" && c.Source == ConflictSource.SameInstitution && c.Reason.Contains("Lakeside Institute", StringComparison.Ordinal));
        Assert.Contains(conflicts, c => c.Email == "colleague@lakeside.example.edu" && c.Source == ConflictSource.SameEmailDomain && c.Reason.Contains("lakeside.example.edu", StringComparison.Ordinal));
        Assert.Contains(conflicts, c => c.Email == "friend@elsewhere.example.org" && c.Source == ConflictSource.DeclaredCollaborator && c.Reason.Contains("declared", StringComparison.Ordinal));
        // The co-investigator's gmail.com address and the reviewer's are no conflict.
        Assert.DoesNotContain(conflicts, c => c.Email == "independent@gmail.com");

        var page = await s.Admin.GetPageAsync($"/Admin/Calls/{s.Slug}/Reviewers");
        Assert.Contains("same institution as team member", page, StringComparison.Ordinal);

        // Clearing a detected conflict is audited.
        var conflictId = await db.ReviewConflicts.Where(c => c.Source == ConflictSource.SameEmailDomain && c.ProposalId == s.Proposals[0]).Select(c => c.Id).SingleAsync();
        using (await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Reviewers", new Dictionary<string, string> { ["conflictId"] = conflictId.ToString() }, $"/Admin/Calls/{s.Slug}/Reviewers?handler=Clear&conflictId={conflictId}"))
        {
        }
        Assert.Equal(ConflictStatus.Cleared, await db.ReviewConflicts.Where(c => c.Id == conflictId).Select(c => c.Status).SingleAsync());
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "review.conflict-cleared" && a.SubjectId == s.Proposals[0].ToString()));
    }

    [Fact]
    public async Task A_detected_conflict_lapses_when_its_cause_goes_and_returns_with_it_but_an_admins_decision_stands()
    {
        var s = await steps.ClosedCallAsync("lapse-call", "pi@harbour.example.edu", "Harbour University");
        var id = s.Proposals[0];
        await ReviewSteps.ScreenPassAsync(s, id);
        var mover = await steps.ReviewerAsync(s, "mover@harbour.example.edu", "Harbour University");
        await using var db = factory.NewDbContext();
        var moverId = await db.Users.Where(u => u.Email == "mover@harbour.example.edu").Select(u => u.Id).SingleAsync();
        async Task<Dictionary<ConflictSource, (ConflictStatus Status, Guid? By)>> ConflictsAsync()
        {
            db.ChangeTracker.Clear();
            return await db.ReviewConflicts.Where(c => c.ProposalId == id && c.ReviewerUserId == moverId)
                .ToDictionaryAsync(c => c.Source, c => (c.Status, c.ResolvedByUserId));
        }
        async Task DetectAsync()
        {
            using var detected = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Reviewers", new Dictionary<string, string>(), $"/Admin/Calls/{s.Slug}/Reviewers?handler=Detect");
            Assert.Equal(HttpStatusCode.Redirect, detected.StatusCode);
        }
        async Task MoveToAsync(string institution)
        {
            await db.Users.Where(u => u.Id == moverId).ExecuteUpdateAsync(u => u.SetProperty(x => x.Institution, institution));
        }
        var before = await ConflictsAsync();
        Assert.Equal(ConflictStatus.Open, before[ConflictSource.SameInstitution].Status);
        Assert.Equal(ConflictStatus.Open, before[ConflictSource.SameEmailDomain].Status);

        // The reviewer moves to another university: the institution conflict lapses, the email domain one stays.
        await MoveToAsync("Tokai University");
        await DetectAsync();
        var moved = await ConflictsAsync();
        Assert.Equal((ConflictStatus.Cleared, (Guid?)null), moved[ConflictSource.SameInstitution]);
        Assert.Equal(ConflictStatus.Open, moved[ConflictSource.SameEmailDomain].Status);
        Assert.Contains("No longer detected", await s.Admin.GetPageAsync($"/Admin/Calls/{s.Slug}/Reviewers"), StringComparison.Ordinal);
        // Still conflicted through the email domain: the proposal stays hidden from the reviewer.
        await ReviewSteps.AssertNotFoundAsync(mover, $"/Reviews/Review/{id}");

        // An admin confirms the domain conflict; moving back brings the institution conflict back, and nothing undoes the confirmation.
        var domainConflict = await db.ReviewConflicts.Where(c => c.ProposalId == id && c.ReviewerUserId == moverId && c.Source == ConflictSource.SameEmailDomain).Select(c => c.Id).SingleAsync();
        using (await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Reviewers", new Dictionary<string, string>(), $"/Admin/Calls/{s.Slug}/Reviewers?handler=Confirm&conflictId={domainConflict}"))
        {
        }
        await MoveToAsync("Harbour University");
        await DetectAsync();
        var back = await ConflictsAsync();
        Assert.Equal((ConflictStatus.Open, (Guid?)null), back[ConflictSource.SameInstitution]);
        Assert.Equal(ConflictStatus.Confirmed, back[ConflictSource.SameEmailDomain].Status);
        Assert.NotNull(back[ConflictSource.SameEmailDomain].By);
    }
}

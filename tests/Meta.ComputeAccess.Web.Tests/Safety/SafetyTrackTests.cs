using System.Net;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Safety;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Tests.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Safety;

/// <summary>The safety and ethics track end to end: who is in it, the sign-off, the release it holds, the conditions the PI accepts.</summary>
public sealed class SafetyTrackTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    private async Task<PortalClient> SafetyReviewerAsync(string email)
    {
        await factory.CreateUserAsync(email, [Roles.Safety, Roles.Researcher], "Program");
        var reviewer = new PortalClient(factory);
        await reviewer.SignInAsync(email);
        return reviewer;
    }

    private static Task<HttpResponseMessage> SignOffAsync(PortalClient reviewer, Guid id, string outcome, string text, long? basedOn = null) =>
        reviewer.PostFormAsync($"/Safety/Review/{id}", new Dictionary<string, string>
        {
            ["Input.Outcome"] = outcome, ["Input.Text"] = text, ["Input.BasedOn"] = basedOn?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "",
        });

    private static async Task<HttpResponseMessage> ReleaseAsync(ReviewSteps.Setup s) =>
        await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Ranking", new Dictionary<string, string>(), $"/Admin/Calls/{s.Slug}/Ranking?handler=Release");

    [Fact]
    public async Task A_flagged_award_is_released_only_after_the_safety_sign_off_and_the_pi_must_accept_its_conditions()
    {
        var (s, id) = await steps.AwardedAsync("safety-release", "pi@safety-release.example.edu", "Release University", "sr-", personalData: true);
        using var reviewer = await SafetyReviewerAsync("safety@safety-release.example.org");

        // The track lists it with its reason; the ranking shows it waiting; the release is refused and nothing is released.
        var track = WebUtility.HtmlDecode(await reviewer.GetPageAsync("/Safety"));
        Assert.Contains("Proposal 1 of safety-release", track, StringComparison.Ordinal);
        Assert.Contains("personal data", track, StringComparison.Ordinal);
        Assert.Contains("Safety sign-off pending", await s.Admin.GetPageAsync($"/Admin/Calls/{s.Slug}/Ranking"), StringComparison.Ordinal);
        using (var held = await ReleaseAsync(s))
        {
            Assert.Equal(HttpStatusCode.OK, held.StatusCode);
            Assert.Contains("waits for a safety reviewer's sign-off", WebUtility.HtmlDecode(await held.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        await using var db = factory.NewDbContext();
        Assert.Null(await db.Proposals.Where(p => p.Id == id).Select(p => p.DecisionReleasedAt).SingleAsync());

        // Conditions are required for an approval with conditions; then the release goes through.
        using (var empty = await SignOffAsync(reviewer, id, "ApprovedWithConditions", ""))
        {
            Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
            Assert.Contains("Write the conditions", WebUtility.HtmlDecode(await empty.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        Assert.False(await db.SafetyDecisions.AnyAsync(d => d.ProposalId == id));
        const string Conditions = "Keep the recordings on the university's servers; publish only aggregate results.";
        using (var approved = await SignOffAsync(reviewer, id, "ApprovedWithConditions", Conditions))
        {
            Assert.Equal(HttpStatusCode.Redirect, approved.StatusCode);
        }
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "safety.approved-with-conditions" && a.SubjectId == id.ToString()));
        var admin = await db.Users.Where(u => u.Email == "admin-safety-release@example.org").Select(u => u.Id).SingleAsync();
        Assert.True(await db.Notifications.AnyAsync(n => n.UserId == admin && n.Kind == NotificationKinds.SafetyDecided));
        Assert.Contains("Safety: approved with conditions", await s.Admin.GetPageAsync($"/Admin/Calls/{s.Slug}/Plan"), StringComparison.Ordinal);
        await ReviewSteps.ReleaseAsync(s);

        // The conditions are on the award; accepting without accepting them is refused and changes nothing.
        using var pi = new PortalClient(factory);
        await pi.SignInAsync("pi@safety-release.example.edu");
        var award = WebUtility.HtmlDecode(await pi.GetPageAsync($"/Proposals/Details/{id}"));
        Assert.Contains(Conditions, award, StringComparison.Ordinal);
        var key = $"safety:{await db.SafetyDecisions.Where(d => d.ProposalId == id).Select(d => d.Id).SingleAsync()}";
        Assert.Contains(key, award, StringComparison.Ordinal);
        using (var without = await pi.PostFormAsync($"/Proposals/Details/{id}", new Dictionary<string, string>(), $"/Proposals/Details/{id}?handler=Accept"))
        {
            Assert.Equal(HttpStatusCode.Redirect, without.StatusCode);
        }
        Assert.Contains("accept the safety reviewer's conditions too", WebUtility.HtmlDecode(await pi.GetPageAsync($"/Proposals/Details/{id}")), StringComparison.Ordinal);
        Assert.Null(await db.Proposals.Where(p => p.Id == id).Select(p => p.AwardResponse).SingleAsync());
        Assert.False(await db.Allocations.AnyAsync(a => a.ProposalId == id));

        using (var accepted = await pi.PostFormAsync($"/Proposals/Details/{id}", [new("accepted", key)], $"/Proposals/Details/{id}?handler=Accept"))
        {
            Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        }
        Assert.Equal(AwardResponse.Accepted, await db.Proposals.Where(p => p.Id == id).Select(p => p.AwardResponse).SingleAsync());
        var kept = await db.AwardConditionAcceptances.AsNoTracking().SingleAsync(a => a.ProposalId == id);
        Assert.Equal((key, Conditions), (kept.Key, kept.Text));
        Assert.True(await db.Allocations.AnyAsync(a => a.ProposalId == id));
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "review.award-conditions-accepted" && a.SubjectId == id.ToString()));

        // After the release the sign-off is fixed, and its history cannot be rewritten.
        using (var late = await SignOffAsync(reviewer, id, "Rejected", "Second thoughts after the release.", long.Parse(key["safety:".Length..], System.Globalization.CultureInfo.InvariantCulture)))
        {
            Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        }
        Assert.Equal(1, await db.SafetyDecisions.CountAsync(d => d.ProposalId == id));
        Assert.Contains("append-only", (await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.Database.ExecuteSqlRawAsync("UPDATE safety_decisions SET text = 'edited'"))).MessageText, StringComparison.Ordinal);
        Assert.Contains("append-only", (await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.Database.ExecuteSqlRawAsync("DELETE FROM award_condition_acceptances"))).MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rejected_proposal_can_be_neither_awarded_nor_released()
    {
        var (s, id) = await steps.AwardedAsync("safety-reject", "pi@safety-reject.example.edu", "Reject University", "sj-", personalData: true);
        using var reviewer = await SafetyReviewerAsync("safety@safety-reject.example.org");
        using (var noReason = await SignOffAsync(reviewer, id, "Rejected", "no"))
        {
            Assert.Equal(HttpStatusCode.OK, noReason.StatusCode);
            Assert.Contains("Give the reason for rejecting", WebUtility.HtmlDecode(await noReason.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        using (var rejected = await SignOffAsync(reviewer, id, "Rejected", "The consent forms do not cover model training."))
        {
            Assert.Equal(HttpStatusCode.Redirect, rejected.StatusCode);
        }
        using (var release = await ReleaseAsync(s))
        {
            Assert.Equal(HttpStatusCode.OK, release.StatusCode);
            Assert.Contains("a safety reviewer rejected", WebUtility.HtmlDecode(await release.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        using (var again = await s.Admin.PostFormAsync($"/Admin/Proposals/Decide/{id}", new Dictionary<string, string>
        {
            ["Input.Decision"] = "Awarded", ["Input.Hours[0].ClusterId"] = s.ClusterId.ToString(), ["Input.Hours[0].Hours"] = "6000", ["Input.Message"] = "Smaller award.",
        }))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Contains("The award cannot be recorded: a safety reviewer rejected", WebUtility.HtmlDecode(await again.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        await using var db = factory.NewDbContext();
        Assert.Equal(8_000m, await db.ProposalAwards.Where(a => a.ProposalId == id).SumAsync(a => a.Hours));

        // A decline needs no sign-off: it grants nothing.
        using (var declined = await s.Admin.PostFormAsync($"/Admin/Proposals/Decide/{id}", new Dictionary<string, string>
        {
            ["Input.Decision"] = "Declined", ["Input.Message"] = "The safety review found the consent insufficient.",
        }))
        {
            Assert.Equal(HttpStatusCode.Redirect, declined.StatusCode);
        }
        await ReviewSteps.ReleaseAsync(s);
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "safety.rejected" && a.SubjectId == id.ToString()));
    }

    [Fact]
    public async Task Safety_reviewers_read_the_statement_not_the_reviews_and_only_proposals_in_the_track()
    {
        var (s, id) = await steps.AwardedAsync("safety-read", "pi@safety-read.example.edu", "Read University", "sd-", personalData: true);
        var plain = await steps.ClosedCallAsync("safety-plain", "pi@safety-plain.example.edu", "Plain University");
        using var reviewer = await SafetyReviewerAsync("safety@safety-read.example.org");
        var page = WebUtility.HtmlDecode(await reviewer.GetPageAsync($"/Safety/Review/{id}"));
        Assert.Contains("Recorded interviews of 200 volunteers", page, StringComparison.Ordinal);
        Assert.DoesNotContain("excellent plan", page, StringComparison.Ordinal);
        Assert.DoesNotContain("trim the ablations", page, StringComparison.Ordinal);
        Assert.DoesNotContain("confidential note", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Calibrated", page, StringComparison.Ordinal);
        await ReviewSteps.AssertNotFoundAsync(reviewer, $"/Safety/Review/{plain.Proposals[0]}", $"/Safety/Review/{Guid.NewGuid()}");
        Assert.DoesNotContain("safety-plain", await reviewer.GetPageAsync("/Safety?all=true"), StringComparison.Ordinal);
        // The plain proposal is released without any sign-off.
        Assert.Empty(await factory.WithScopeAsync(sp => sp.GetRequiredService<SafetyTrack>().StatesAsync([plain.Proposals[0]], default)));
    }

    [Fact]
    public async Task Nobody_signs_off_a_proposal_they_are_on_the_team_of()
    {
        var (_, id) = await steps.AwardedAsync("safety-own", "pi@safety-own.example.edu", "Own University", "so-", personalData: true);
        await using var db = factory.NewDbContext();
        var pi = await db.Proposals.Where(p => p.Id == id).Select(p => p.PiUserId).SingleAsync();
        await factory.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<PortalUser>>();
            Assert.True((await users.AddToRoleAsync((await users.FindByIdAsync(pi.ToString()))!, Roles.Safety)).Succeeded);
        });
        using var own = new PortalClient(factory);
        await own.SignInAsync("pi@safety-own.example.edu");

        await ReviewSteps.AssertNotFoundAsync(own, $"/Safety/Review/{id}");
        Assert.DoesNotContain(id.ToString(), await own.GetPageAsync("/Safety?all=true"), StringComparison.Ordinal);
        Assert.False(await factory.WithScopeAsync(sp => sp.GetRequiredService<SafetyTrack>().DecideAsync(id, SafetyOutcome.Approved, null, null, pi, default)));
        Assert.False(await db.SafetyDecisions.AnyAsync(d => d.ProposalId == id));
        // Another safety reviewer reads it as before.
        using var other = await SafetyReviewerAsync("safety@safety-own.example.org");
        Assert.Contains("Recorded interviews of 200 volunteers", WebUtility.HtmlDecode(await other.GetPageAsync($"/Safety/Review/{id}")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sign_off_on_a_page_shown_before_another_reviewers_is_refused()
    {
        var (_, id) = await steps.AwardedAsync("safety-race", "pi@safety-race.example.edu", "Race University", "sc-", personalData: true);
        using var first = await SafetyReviewerAsync("first@safety-race.example.org");
        using var second = await SafetyReviewerAsync("second@safety-race.example.org");
        using (var approved = await SignOffAsync(first, id, "Approved", ""))
        {
            Assert.Equal(HttpStatusCode.Redirect, approved.StatusCode);
        }
        // The second reviewer's form was shown before: it carries no sign-off to build on.
        using (var stale = await SignOffAsync(second, id, "Rejected", "The dataset licence forbids this use."))
        {
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Contains("Another safety reviewer signed this proposal off meanwhile", WebUtility.HtmlDecode(await stale.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        await using var db = factory.NewDbContext();
        var only = await db.SafetyDecisions.AsNoTracking().SingleAsync(d => d.ProposalId == id);
        Assert.Equal(SafetyOutcome.Approved, only.Outcome);
        // Read again, the second reviewer may disagree: a new row, the first kept.
        using (var disagree = await SignOffAsync(second, id, "Rejected", "The dataset licence forbids this use.", only.Id))
        {
            Assert.Equal(HttpStatusCode.Redirect, disagree.StatusCode);
        }
        Assert.Equal([SafetyOutcome.Approved, SafetyOutcome.Rejected], await db.SafetyDecisions.Where(d => d.ProposalId == id).OrderBy(d => d.Id).Select(d => d.Outcome).ToListAsync());
        // Each reviewer's download has their own decision, not the other's.
        using (var export = await second.PostFormAsync("/Account/Security", new Dictionary<string, string>(), "/Account/Security?handler=Export"))
        {
            using var json = System.Text.Json.JsonDocument.Parse(await export.Content.ReadAsStringAsync());
            var mine = Assert.Single(json.RootElement.GetProperty("safetyDecisionsYouMade").EnumerateArray());
            Assert.Equal(("Rejected", "The dataset licence forbids this use."), (mine.GetProperty("outcome").GetString(), mine.GetProperty("text").GetString()));
        }
    }

    [Fact]
    public async Task Submitting_a_proposal_that_declares_human_subjects_tells_the_safety_reviewers()
    {
        var call = await factory.CreateOpenCallAsync("safety-submit");
        var pi = await factory.CreateUserAsync("pi@safety-submit.example.edu");
        await factory.CreateUserAsync("safety@safety-submit.example.org", [Roles.Safety, Roles.Researcher], "Program");
        using var client = new PortalClient(factory);
        await client.SignInAsync("pi@safety-submit.example.edu");
        using (var created = await client.PostFormAsync($"/Proposals/Create?call={call.Slug}", new Dictionary<string, string> { ["call"] = call.Slug, ["Title"] = "Annotated dialogues" }))
        {
            Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        }
        await using var db = factory.NewDbContext();
        var proposal = await db.Proposals.AsNoTracking().SingleAsync(p => p.PiUserId == pi.Id);
        var form = TestCalls.CompleteForm(call, proposal.Version);
        form["Input.InvolvesHumanSubjects"] = "true";
        form["Input.HumanSubjectsDetails"] = "short";
        using (var refused = await client.PostFormAsync($"/Proposals/Edit/{proposal.Id}", form, $"/Proposals/Edit/{proposal.Id}?handler=Submit"))
        {
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            Assert.Contains("Describe who takes part", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        form["Input.HumanSubjectsDetails"] = "Forty crowd workers rate dialogues; each consents, and the ethics board approved the study.";
        form["Input.Version"] = (await db.Proposals.Where(p => p.Id == proposal.Id).Select(p => p.Version).SingleAsync()).ToString(System.Globalization.CultureInfo.InvariantCulture);
        using (var submitted = await client.PostFormAsync($"/Proposals/Edit/{proposal.Id}", form, $"/Proposals/Edit/{proposal.Id}?handler=Submit"))
        {
            Assert.Equal(HttpStatusCode.Redirect, submitted.StatusCode);
        }
        var safety = await db.Users.Where(u => u.Email == "safety@safety-submit.example.org").Select(u => u.Id).SingleAsync();
        Assert.True(await db.Notifications.AnyAsync(n => n.UserId == safety && n.Kind == NotificationKinds.SafetyFlagged));
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "safety.flagged" && a.SubjectId == proposal.Id.ToString() && a.Summary.Contains("human subjects")));
    }
}

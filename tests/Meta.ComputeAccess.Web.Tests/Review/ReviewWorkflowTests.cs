using System.Net;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Review;

/// <summary>The review workflow through the real pages on real PostgreSQL: conflicts, visibility, assignment, reviews, decisions.</summary>
public sealed class ReviewWorkflowTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private sealed record Setup(Guid CallId, string Slug, Guid ClusterId, Guid CriterionId, IReadOnlyList<Guid> Proposals, PortalClient Admin);

    /// <summary>A closed call with two reviews per proposal and <paramref name="count"/> submitted proposals by <paramref name="piEmail"/>.</summary>
    private async Task<Setup> ClosedCallAsync(string slug, string piEmail, string piInstitution, int count = 1, string? coInvestigatorEmail = null)
    {
        var now = factory.Clock.GetUtcNow();
        var pi = await factory.CreateUserAsync(piEmail, institution: piInstitution);
        Guid? co = coInvestigatorEmail is null ? null : (await factory.CreateUserAsync(coInvestigatorEmail, institution: "Somewhere Else")).Id;
        await using var db = factory.NewDbContext();
        var cluster = Cluster.Create("Cluster " + slug, "c-" + slug, "H100 80GB", 16, 8, "c" + slug.Replace("-", "", StringComparison.Ordinal), now);
        db.Clusters.Add(cluster);
        var call = Call.Create("Call " + slug, slug, now);
        call.SetTexts(call.Title, "Open research.", "Universities");
        call.SetSchedule(CallKind.Fixed, now.AddMinutes(-1), now.AddDays(1), DateOnly.FromDateTime(now.UtcDateTime.AddMonths(1)), DateOnly.FromDateTime(now.UtcDateTime.AddMonths(13)), "UTC");
        call.SetReview(2, ReviewMode.SingleBlind);
        call.OfferCluster(cluster.Id, 1_000_000m, 1_000m, 100_000m);
        call.AddCriterion("Merit", "Is it important?", 50m);
        call.Open(now);
        db.Calls.Add(call);
        TestCalls.AddAwardCapacity(db, call, cluster.Id, now);
        var ids = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var p = Proposal.StartDraft(call, pi.Id, $"Proposal {i + 1} of {slug}", now);
            p.UpdateDraft(new ProposalContent(p.Title, new string('a', 120) + " abstract", ["speech", "low resource"], "Speech and audio", new string('j', 120),
                false, "", false, "", "Apache-2.0", PlannedOutputs.Code, "", [new RequestedHours(cluster.Id, 10_000m, 5_000m)]), call, now);
            if (co is not null)
            {
                p.InviteCoInvestigator(coInvestigatorEmail!, co, pi.Id, now);
            }
            p.Submit(call, pi.Id, now);
            db.Proposals.Add(p);
            db.ProposalAttachments.Add(ProposalAttachment.Create(p.Id, "plan.pdf", TestCalls.Pdf(), pi.Id, now));
            ids.Add(p.Id);
        }
        await db.SaveChangesAsync();
        factory.Clock.Advance(TimeSpan.FromDays(2));
        var adminEmail = "admin-" + slug + "@example.org";
        await factory.CreateUserAsync(adminEmail, [Roles.Admin, Roles.Researcher], "Program");
        var admin = new PortalClient(factory);
        await admin.SignInAsync(adminEmail);
        return new Setup(call.Id, slug, cluster.Id, call.Rubric[0].Id, ids, admin);
    }

    private async Task<PortalClient> ReviewerAsync(Setup s, string email, string institution, bool addToPool = true)
    {
        await factory.CreateUserAsync(email, [Roles.Reviewer, Roles.Researcher], institution);
        if (addToPool)
        {
            using var added = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Reviewers", new Dictionary<string, string> { ["Email"] = email }, $"/Admin/Calls/{s.Slug}/Reviewers?handler=Add");
            Assert.Equal(HttpStatusCode.Redirect, added.StatusCode);
        }
        var client = new PortalClient(factory);
        await client.SignInAsync(email);
        return client;
    }

    private static async Task ScreenPassAsync(Setup s, Guid proposalId)
    {
        using var screened = await s.Admin.PostFormAsync($"/Admin/Proposals/Screen/{proposalId}", new Dictionary<string, string>
        {
            ["Input.Eligible"] = "true", ["Input.Technical"] = "0", ["Input.TechnicalNote"] = "",
        });
        Assert.Equal(HttpStatusCode.Redirect, screened.StatusCode);
    }

    private async Task AssignAsync(Setup s, Guid proposalId, string reviewerEmail)
    {
        await using var db = factory.NewDbContext();
        var reviewer = await db.Users.Where(u => u.Email == reviewerEmail).Select(u => u.Id).SingleAsync();
        using var assigned = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Assignment",
            new Dictionary<string, string> { ["proposalId"] = proposalId.ToString(), ["reviewerId"] = reviewer.ToString() }, $"/Admin/Calls/{s.Slug}/Assignment?handler=Assign");
        Assert.True(assigned.StatusCode == HttpStatusCode.Redirect, ProblemOf(await assigned.Content.ReadAsStringAsync()));
    }

    private static Dictionary<string, string> CompleteReview(Setup s, string comments, int overall = 7) => new()
    {
        [$"Input.Scores[{s.CriterionId}]"] = "4",
        ["Input.Overall"] = overall.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Input.Confidence"] = "2",
        [$"Input.Hours[{s.ClusterId}]"] = "8000",
        ["Input.CommentsForApplicants"] = comments,
        ["Input.ConfidentialComments"] = $"confidential note {overall} for admins",
    };

    /// <summary>The validation summary of a page answered instead of a redirect, for assertion messages.</summary>
    private static string ProblemOf(string html) =>
        System.Text.RegularExpressions.Regex.Match(html, "validation-summary-errors[^>]*>(.*?)</div>", System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value;

    private static async Task AssertNotFoundAsync(PortalClient client, params string[] urls)
    {
        foreach (var url in urls)
        {
            using var response = await client.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{url} answered {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task Conflicts_are_stored_with_reasons_and_webmail_domains_never_count()
    {
        var s = await ClosedCallAsync("coi-call", "pi@lakeside.example.edu", "Lakeside Institute", coInvestigatorEmail: "coinvestigator@gmail.com");
        await ScreenPassAsync(s, s.Proposals[0]);
        await ReviewerAsync(s, "colleague@lakeside.example.edu", "Lakeside Institute");
        await ReviewerAsync(s, "independent@gmail.com", "Far Away College");
        var friend = await ReviewerAsync(s, "friend@elsewhere.example.org", "Elsewhere");
        using (var declared = await friend.PostFormAsync($"/Reviews/{s.Slug}/Bids", new Dictionary<string, string> { ["CollaboratorEmail"] = "pi@lakeside.example.edu" }, $"/Reviews/{s.Slug}/Bids?handler=Collaborator"))
        {
            Assert.Equal(HttpStatusCode.Redirect, declared.StatusCode);
        }

        await using var db = factory.NewDbContext();
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
        var s = await ClosedCallAsync("lapse-call", "pi@harbour.example.edu", "Harbour University");
        var id = s.Proposals[0];
        await ScreenPassAsync(s, id);
        var mover = await ReviewerAsync(s, "mover@harbour.example.edu", "Harbour University");
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
        await AssertNotFoundAsync(mover, $"/Reviews/Review/{id}");

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

    [Fact]
    public async Task Conflicted_and_unassigned_reviewers_and_other_researchers_get_404_on_proposal_review_and_attachment_urls()
    {
        var s = await ClosedCallAsync("hidden-call", "owner@harbour.example.edu", "Harbour University");
        var id = s.Proposals[0];
        await ScreenPassAsync(s, id);
        var assigned = await ReviewerAsync(s, "assigned@tokai.example.ac.jp", "Tokai");
        var conflicted = await ReviewerAsync(s, "conflicted@harbour.example.edu", "Harbour University");
        var unassigned = await ReviewerAsync(s, "unassigned@north.example.edu", "North");
        var later = await ReviewerAsync(s, "later@south.example.edu", "South");
        await AssignAsync(s, id, "assigned@tokai.example.ac.jp");
        await AssignAsync(s, id, "later@south.example.edu");
        await using var db = factory.NewDbContext();
        var attachmentId = await db.ProposalAttachments.Where(a => a.ProposalId == id).Select(a => a.Id).SingleAsync();

        // The assigned reviewer can open everything, so the 404s below are about visibility, not broken URLs.
        Assert.Contains("Proposal 1 of hidden-call", await assigned.GetPageAsync($"/Reviews/Review/{id}"), StringComparison.Ordinal);
        using (var ok = await assigned.GetAsync($"/Reviews/Attachment/{id}/{attachmentId}"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // Assigning the conflicted reviewer by hand is refused.
        var conflictedId = await db.Users.Where(u => u.Email == "conflicted@harbour.example.edu").Select(u => u.Id).SingleAsync();
        using (var refused = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Assignment", new Dictionary<string, string> { ["proposalId"] = id.ToString(), ["reviewerId"] = conflictedId.ToString() }, $"/Admin/Calls/{s.Slug}/Assignment?handler=Assign"))
        {
            Assert.Contains("conflict of interest", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // A reviewer who declares a conflict after assignment loses access at once.
        using (var declared = await later.PostFormAsync($"/Reviews/Review/{id}", new Dictionary<string, string> { ["reason"] = "former student" }, $"/Reviews/Review/{id}?handler=Conflict"))
        {
            Assert.Equal(HttpStatusCode.Redirect, declared.StatusCode);
        }

        var urls = new[] { $"/Reviews/Review/{id}", $"/Reviews/Attachment/{id}/{attachmentId}", $"/Proposals/Details/{id}", $"/Proposals/Attachment/{id}/{attachmentId}" };
        foreach (var client in new[] { conflicted, unassigned, later })
        {
            await AssertNotFoundAsync(client, urls);
            var bids = await client.GetPageAsync($"/Reviews/{s.Slug}/Bids");
            var reviews = await client.GetPageAsync("/Reviews");
            if (client != unassigned)
            {
                Assert.DoesNotContain("Proposal 1 of hidden-call", bids, StringComparison.Ordinal);
            }
            Assert.DoesNotContain("Proposal 1 of hidden-call", reviews, StringComparison.Ordinal);
        }
        // The form handlers answer 404 too, with a valid antiforgery token from the reviewer's own page.
        using (var post = await conflicted.PostFormAsync($"/Reviews/{s.Slug}/Bids", CompleteReview(s, "sneaky review of a conflicted proposal"), $"/Reviews/Review/{id}?handler=Submit"))
        {
            Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        }

        await factory.CreateUserAsync("other-researcher@example.edu");
        using var researcher = new PortalClient(factory);
        await researcher.SignInAsync("other-researcher@example.edu");
        await AssertNotFoundAsync(researcher, $"/Proposals/Details/{id}", $"/Proposals/Attachment/{id}/{attachmentId}");
        // Review URLs are behind the Reviewer role: a researcher is turned away the same way whatever the id.
        using var review = await researcher.GetAsync($"/Reviews/Review/{id}");
        using var random = await researcher.GetAsync($"/Reviews/Review/{Guid.NewGuid()}");
        Assert.NotEqual(HttpStatusCode.OK, review.StatusCode);
        Assert.Equal(random.StatusCode, review.StatusCode);
    }

    [Fact]
    public async Task A_reviewer_reads_other_reviews_only_after_submitting_and_never_their_authors()
    {
        var s = await ClosedCallAsync("blind-call", "author@river.example.edu", "River University");
        var id = s.Proposals[0];
        await ScreenPassAsync(s, id);
        var first = await ReviewerAsync(s, "first.reviewer@tokai.example.ac.jp", "Tokai");
        var second = await ReviewerAsync(s, "second.reviewer@north.example.edu", "North");
        await AssignAsync(s, id, "first.reviewer@tokai.example.ac.jp");
        await AssignAsync(s, id, "second.reviewer@north.example.edu");

        using (var submitted = await first.PostFormAsync($"/Reviews/Review/{id}", CompleteReview(s, "The first reviewer's careful remarks on the method."), $"/Reviews/Review/{id}?handler=Submit"))
        {
            Assert.Equal(HttpStatusCode.Redirect, submitted.StatusCode);
        }
        var before = await second.GetPageAsync($"/Reviews/Review/{id}");
        Assert.DoesNotContain("careful remarks", before, StringComparison.Ordinal);

        // An incomplete submission is refused with messages beside the fields and saves nothing as submitted.
        var incomplete = CompleteReview(s, "short");
        incomplete.Remove("Input.Overall");
        using (var refused = await second.PostFormAsync($"/Reviews/Review/{id}", incomplete, $"/Reviews/Review/{id}?handler=Submit"))
        {
            var html = await refused.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            Assert.Contains("Give an overall score from 1 to 10.", html, StringComparison.Ordinal);
            Assert.Contains("Write comments for the applicants", html, StringComparison.Ordinal);
        }
        using (var submitted = await second.PostFormAsync($"/Reviews/Review/{id}", CompleteReview(s, "The second view: sound but expensive.", 5), $"/Reviews/Review/{id}?handler=Submit"))
        {
            Assert.Equal(HttpStatusCode.Redirect, submitted.StatusCode);
        }
        var after = await second.GetPageAsync($"/Reviews/Review/{id}");
        Assert.Contains("careful remarks", after, StringComparison.Ordinal);
        Assert.Contains("Reviewer 1", after, StringComparison.Ordinal);
        Assert.DoesNotContain("first.reviewer", after, StringComparison.Ordinal);
        Assert.DoesNotContain("confidential note 7", after, StringComparison.Ordinal);

        await using var db = factory.NewDbContext();
        Assert.Equal(ProposalStatus.ReviewsComplete, await db.Proposals.Where(p => p.Id == id).Select(p => p.Status).SingleAsync());
    }

    [Fact]
    public async Task Automatic_assignment_is_repeatable_excludes_conflicts_respects_loads_and_reports_shortfalls()
    {
        var s = await ClosedCallAsync("auto-call", "lead@delta.example.edu", "Delta University", count: 3);
        foreach (var id in s.Proposals)
        {
            await ScreenPassAsync(s, id);
        }
        await ReviewerAsync(s, "light@tokai.example.ac.jp", "Tokai");
        await ReviewerAsync(s, "heavy@north.example.edu", "North");
        await ReviewerAsync(s, "insider@delta.example.edu", "Delta University");
        await using var db = factory.NewDbContext();
        var light = await db.Users.Where(u => u.Email == "light@tokai.example.ac.jp").Select(u => u.Id).SingleAsync();
        using (await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Reviewers", new Dictionary<string, string> { ["keywords"] = "speech", ["maxLoad"] = "2" }, $"/Admin/Calls/{s.Slug}/Reviewers?handler=Profile&userId={light}"))
        {
        }

        async Task<List<(Guid, Guid)>> RunAsync()
        {
            using var run = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Assignment", new Dictionary<string, string> { ["seed"] = "7" }, $"/Admin/Calls/{s.Slug}/Assignment?handler=Run");
            Assert.Equal(HttpStatusCode.Redirect, run.StatusCode);
            await using var check = factory.NewDbContext();
            var latest = await check.AssignmentRuns.Include(r => r.Pairs).Where(r => r.CallId == s.CallId).OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).FirstAsync();
            return [.. latest.Pairs.Select(p => (p.ProposalId, p.ReviewerUserId)).Order()];
        }
        var firstRun = await RunAsync();
        var secondRun = await RunAsync();
        Assert.Equal(firstRun, secondRun);

        var page = await s.Admin.GetPageAsync($"/Admin/Calls/{s.Slug}/Assignment");
        Assert.Contains("Not fully served", page, StringComparison.Ordinal);
        Assert.Contains("needs 2 reviewers", page, StringComparison.Ordinal);

        var runId = await db.AssignmentRuns.Where(r => r.CallId == s.CallId).OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Select(r => r.Id).FirstAsync();
        using (var applied = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Assignment", new Dictionary<string, string>(), $"/Admin/Calls/{s.Slug}/Assignment?handler=Apply&runId={runId}"))
        {
            Assert.Equal(HttpStatusCode.Redirect, applied.StatusCode);
        }
        var reviews = await db.Reviews.Where(r => r.CallId == s.CallId).ToListAsync();
        var insider = await db.Users.Where(u => u.Email == "insider@delta.example.edu").Select(u => u.Id).SingleAsync();
        Assert.Equal(5, reviews.Count);
        Assert.DoesNotContain(reviews, r => r.ReviewerUserId == insider);
        Assert.Equal(2, reviews.Count(r => r.ReviewerUserId == light));
        Assert.All(reviews.GroupBy(r => r.ProposalId), g => Assert.True(g.Count() <= 2));
        Assert.Equal(5, await db.Notifications.CountAsync(n => n.Kind == NotificationKinds.ReviewAssigned && reviews.Select(r => r.ReviewerUserId).Contains(n.UserId)));
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "review.assignment-applied" && a.SubjectId == s.CallId.ToString()));
    }

    /// <summary>One proposal screened, reviewed twice (reviewers at "one@tokai…" and "two@north…" with the given prefix) and decided: 8,000 hours awarded, not released.</summary>
    private async Task<(Setup S, Guid Id)> AwardedAsync(string slug, string piEmail, string piInstitution, string reviewerPrefix = "")
    {
        var s = await ClosedCallAsync(slug, piEmail, piInstitution);
        var id = s.Proposals[0];
        await ScreenPassAsync(s, id);
        var one = await ReviewerAsync(s, $"{reviewerPrefix}one@tokai.example.ac.jp", "Tokai");
        var two = await ReviewerAsync(s, $"{reviewerPrefix}two@north.example.edu", "North");
        await AssignAsync(s, id, $"{reviewerPrefix}one@tokai.example.ac.jp");
        await AssignAsync(s, id, $"{reviewerPrefix}two@north.example.edu");
        foreach (var (client, text) in new[] { (one, "Reviewer one says: excellent plan."), (two, "Reviewer two says: promising, trim the ablations.") })
        {
            using var r = await client.PostFormAsync($"/Reviews/Review/{id}", CompleteReview(s, text), $"/Reviews/Review/{id}?handler=Submit");
            Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        }
        using (var decided = await s.Admin.PostFormAsync($"/Admin/Proposals/Decide/{id}", new Dictionary<string, string>
        {
            ["Input.Decision"] = "Awarded", ["Input.Hours[0].ClusterId"] = s.ClusterId.ToString(), ["Input.Hours[0].Hours"] = "8000", ["Input.Message"] = "Congratulations.",
        }))
        {
            Assert.Equal(HttpStatusCode.Redirect, decided.StatusCode);
        }
        return (s, id);
    }

    private static async Task ReleaseAsync(Setup s)
    {
        using var released = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Ranking", new Dictionary<string, string>(), $"/Admin/Calls/{s.Slug}/Ranking?handler=Release");
        Assert.Equal(HttpStatusCode.Redirect, released.StatusCode);
    }

    [Fact]
    public async Task Decisions_stay_hidden_until_release_and_then_the_pi_accepts_the_award()
    {
        var (s, id) = await AwardedAsync("decide-call", "winner@ocean.example.edu", "Ocean University");

        using var pi = new PortalClient(factory);
        await pi.SignInAsync("winner@ocean.example.edu");
        var hidden = await pi.GetPageAsync($"/Proposals/Details/{id}");
        Assert.DoesNotContain("Decision:", hidden, StringComparison.Ordinal);
        Assert.DoesNotContain("Congratulations", hidden, StringComparison.Ordinal);
        Assert.DoesNotContain("excellent plan", hidden, StringComparison.Ordinal);
        Assert.DoesNotContain("Accept award", hidden, StringComparison.Ordinal);

        await ReleaseAsync(s);
        var shown = await pi.GetPageAsync($"/Proposals/Details/{id}");
        Assert.Contains("Decision: awarded", shown, StringComparison.Ordinal);
        Assert.Contains("8,000 GPU-hours", shown, StringComparison.Ordinal);
        Assert.Contains("excellent plan", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("one@tokai", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("confidential note", shown, StringComparison.Ordinal);

        using (var accepted = await pi.PostFormAsync($"/Proposals/Details/{id}", new Dictionary<string, string>(), $"/Proposals/Details/{id}?handler=Accept"))
        {
            Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        }
        await using var db = factory.NewDbContext();
        var proposal = await db.Proposals.Include(p => p.History).AsNoTracking().SingleAsync(p => p.Id == id);
        Assert.Equal(AwardResponse.Accepted, proposal.AwardResponse);
        Assert.Contains(proposal.History, h => h.Reason == "Award accepted");
        // Acceptance hands the award to the allocation module: an active allocation with the awarded hours, granted in the ledger.
        var allocation = await db.Allocations.Include(a => a.Quotas).AsNoTracking().SingleAsync(a => a.ProposalId == id);
        Assert.Equal(proposal.PiUserId, allocation.PiUserId);
        Assert.Equal(8_000m, allocation.Quotas.Sum(q => q.GrantedHours));
        Assert.Equal(8_000m, await db.LedgerEntries.Where(e => e.AllocationId == allocation.Id).SumAsync(e => e.Hours));
        Assert.Equal(CallStatus.Decided, await db.Calls.Where(c => c.Id == s.CallId).Select(c => c.Status).SingleAsync());
        Assert.True(await db.Notifications.AnyAsync(n => n.Kind == NotificationKinds.DecisionReleased && n.UserId == proposal.PiUserId));
        Assert.True(await db.Notifications.AnyAsync(n => n.Kind == NotificationKinds.AwardAccepted && n.UserId == proposal.PiUserId));
        // Once answered, the award cannot be answered again.
        using var again = await pi.PostFormAsync($"/Proposals/Details/{id}", new Dictionary<string, string>(), $"/Proposals/Details/{id}?handler=DeclineAward");
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.Contains("The award was already accepted.", await pi.GetPageAsync($"/Proposals/Details/{id}"), StringComparison.Ordinal);
        Assert.Equal(AwardResponse.Accepted, await db.Proposals.Where(p => p.Id == id).Select(p => p.AwardResponse).SingleAsync());
    }

    [Fact]
    public async Task A_declined_award_creates_no_allocation_and_tells_the_admins()
    {
        var (s, id) = await AwardedAsync("decline-call", "decliner@ocean.example.edu", "Ocean University", reviewerPrefix: "d-");
        await ReleaseAsync(s);
        using var pi = new PortalClient(factory);
        await pi.SignInAsync("decliner@ocean.example.edu");
        using (var declined = await pi.PostFormAsync($"/Proposals/Details/{id}", new Dictionary<string, string>(), $"/Proposals/Details/{id}?handler=DeclineAward"))
        {
            Assert.Equal(HttpStatusCode.Redirect, declined.StatusCode);
        }
        await using var db = factory.NewDbContext();
        Assert.Equal(AwardResponse.Declined, await db.Proposals.Where(p => p.Id == id).Select(p => p.AwardResponse).SingleAsync());
        Assert.False(await db.Allocations.AnyAsync(a => a.ProposalId == id));
        var admins = await db.UserRoles.Join(db.Roles.Where(r => r.Name == Identity.Roles.Admin), ur => ur.RoleId, r => r.Id, (ur, r) => ur.UserId).ToListAsync();
        var notices = await db.Notifications.Where(n => n.Kind == NotificationKinds.AwardDeclined).ToListAsync();
        Assert.NotEmpty(admins);
        Assert.Equal(admins.Order(), notices.Select(n => n.UserId).Order());
        Assert.All(notices, n => Assert.Contains(id.ToString(), n.Link, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_reviewer_declaring_a_conflict_drops_their_review_and_the_others_being_in_completes_the_proposal()
    {
        var s = await ClosedCallAsync("late-conflict-call", "pi@quay.example.edu", "Quay University");
        var id = s.Proposals[0];
        await ScreenPassAsync(s, id);
        var done = await ReviewerAsync(s, "done@tokai.example.ac.jp", "Tokai");
        var leaving = await ReviewerAsync(s, "leaving@north.example.edu", "North");
        await AssignAsync(s, id, "done@tokai.example.ac.jp");
        await AssignAsync(s, id, "leaving@north.example.edu");
        using (var submitted = await done.PostFormAsync($"/Reviews/Review/{id}", CompleteReview(s, "Reviewer says: a solid and well argued plan."), $"/Reviews/Review/{id}?handler=Submit"))
        {
            Assert.Equal(HttpStatusCode.Redirect, submitted.StatusCode);
        }
        using (var declared = await leaving.PostFormAsync($"/Reviews/Review/{id}", new Dictionary<string, string> { ["reason"] = "I advised the PI last year." }, $"/Reviews/Review/{id}?handler=Conflict"))
        {
            Assert.Equal(HttpStatusCode.Redirect, declared.StatusCode);
        }
        await using var db = factory.NewDbContext();
        Assert.Equal(ProposalStatus.ReviewsComplete, await db.Proposals.Where(p => p.Id == id).Select(p => p.Status).SingleAsync());
        Assert.Equal(1, await db.Reviews.CountAsync(r => r.ProposalId == id));
    }

    [Fact]
    public async Task Review_reminders_are_sent_once_each_before_and_after_the_deadline()
    {
        var s = await ClosedCallAsync("remind-call", "slow@lake.example.edu", "Lake University");
        var id = s.Proposals[0];
        await ScreenPassAsync(s, id);
        await ReviewerAsync(s, "late@tokai.example.ac.jp", "Tokai");
        await AssignAsync(s, id, "late@tokai.example.ac.jp");
        var deadline = factory.Clock.GetUtcNow().AddDays(2);
        using (await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Reviewers", new Dictionary<string, string> { ["deadline"] = deadline.UtcDateTime.ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture) }, $"/Admin/Calls/{s.Slug}/Reviewers?handler=Deadline"))
        {
        }
        async Task<int> RunAsync() => await factory.WithScopeAsync(sp => sp.GetRequiredService<ReviewReminderJob>().RunAsync());
        Assert.Equal(1, await RunAsync());
        Assert.Equal(0, await RunAsync());
        factory.Clock.Advance(TimeSpan.FromDays(3));
        Assert.Equal(1, await RunAsync());
        Assert.Equal(0, await RunAsync());
        await using var db = factory.NewDbContext();
        var reviewer = await db.Users.Where(u => u.Email == "late@tokai.example.ac.jp").Select(u => u.Id).SingleAsync();
        Assert.Equal(1, await db.Notifications.CountAsync(n => n.UserId == reviewer && n.Kind == NotificationKinds.ReviewDue));
        Assert.Equal(1, await db.Notifications.CountAsync(n => n.UserId == reviewer && n.Kind == NotificationKinds.ReviewOverdue));
    }
}

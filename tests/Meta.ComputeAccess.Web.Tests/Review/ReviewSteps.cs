using System.Net;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Review;

/// <summary>
/// The review workflow's steps through the real pages, for the review page tests: a closed call with submitted
/// proposals, reviewers in its pool, screening, assignment, reviews, a recorded award and its release.
/// </summary>
public sealed class ReviewSteps(PortalFactory factory)
{
    public sealed record Setup(Guid CallId, string Slug, Guid ClusterId, Guid CriterionId, IReadOnlyList<Guid> Proposals, PortalClient Admin);

    /// <summary>A closed call with two reviews per proposal and <paramref name="count"/> submitted proposals by <paramref name="piEmail"/>.</summary>
    /// <param name="personalData">The proposals declare personal data (which puts them in the safety track).</param>
    public async Task<Setup> ClosedCallAsync(string slug, string piEmail, string piInstitution, int count = 1, string? coInvestigatorEmail = null, ReviewMode mode = ReviewMode.SingleBlind,
        bool personalData = false)
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
        call.SetReview(2, mode);
        call.OfferCluster(cluster.Id, 1_000_000m, 1_000m, 100_000m);
        call.AddCriterion("Merit", "Is it important?", 50m);
        call.Open(now);
        db.Calls.Add(call);
        // One award period per program, as in production: a later call's cluster gets capacity in the period an earlier call
        // set up, so acceptance (which takes the first period covering the award's start) finds it whatever the tests' order.
        var period = await db.AllocationPeriods.Where(p => p.StartDate <= call.AwardStart && p.EndDate >= call.AwardStart).OrderBy(p => p.StartDate).FirstOrDefaultAsync();
        if (period is null)
        {
            TestCalls.AddAwardCapacity(db, call, cluster.Id, now);
        }
        else
        {
            db.ClusterCapacities.Add(Allocations.ClusterCapacity.Create(cluster.Id, period.Id, 10_000_000m, 1m, 0m, now));
        }
        var ids = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var p = Proposal.StartDraft(call, pi.Id, $"Proposal {i + 1} of {slug}", now);
            p.UpdateDraft(new ProposalContent(p.Title, new string('a', 120) + " abstract", ["speech", "low resource"], "Speech and audio", new string('j', 120),
                personalData, personalData ? "Recorded interviews of 200 volunteers, pseudonymised before training." : "", false, "", "Apache-2.0", PlannedOutputs.Code, "",
                [new RequestedHours(cluster.Id, 10_000m, 5_000m)], false, ""), call, now);
            if (co is not null)
            {
                p.AddCoInvestigator(coInvestigatorEmail!, co.Value, now);
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

    public async Task<PortalClient> ReviewerAsync(Setup s, string email, string institution, bool addToPool = true)
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

    public static async Task ScreenPassAsync(Setup s, Guid proposalId)
    {
        using var screened = await s.Admin.PostFormAsync($"/Admin/Proposals/Screen/{proposalId}", new Dictionary<string, string>
        {
            ["Input.Eligible"] = "true", ["Input.Technical"] = "0", ["Input.TechnicalNote"] = "",
        });
        Assert.Equal(HttpStatusCode.Redirect, screened.StatusCode);
    }

    public async Task AssignAsync(Setup s, Guid proposalId, string reviewerEmail)
    {
        await using var db = factory.NewDbContext();
        var reviewer = await db.Users.Where(u => u.Email == reviewerEmail).Select(u => u.Id).SingleAsync();
        using var assigned = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Assignment",
            new Dictionary<string, string> { ["proposalId"] = proposalId.ToString(), ["reviewerId"] = reviewer.ToString() }, $"/Admin/Calls/{s.Slug}/Assignment?handler=Assign");
        Assert.True(assigned.StatusCode == HttpStatusCode.Redirect, ProblemOf(await assigned.Content.ReadAsStringAsync()));
    }

    public static Dictionary<string, string> CompleteReview(Setup s, string comments, int overall = 7) => new()
    {
        [$"Input.Scores[{s.CriterionId}]"] = "4",
        ["Input.Overall"] = overall.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Input.Confidence"] = "2",
        [$"Input.Hours[{s.ClusterId}]"] = "8000",
        ["Input.CommentsForApplicants"] = comments,
        ["Input.ConfidentialComments"] = $"confidential note {overall} for admins",
    };

    /// <summary>The validation summary of a page answered instead of a redirect, for assertion messages.</summary>
    public static string ProblemOf(string html) =>
        System.Text.RegularExpressions.Regex.Match(html, "validation-summary-errors[^>]*>(.*?)</div>", System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value;

    public static async Task AssertNotFoundAsync(PortalClient client, params string[] urls)
    {
        foreach (var url in urls)
        {
            using var response = await client.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{url} answered {(int)response.StatusCode}");
        }
    }

    /// <summary>
    /// One proposal screened into review and assigned to two reviewers, <paramref name="firstEmail"/> (at Tokai) and
    /// <paramref name="secondEmail"/> (at North), signed in.
    /// </summary>
    public async Task<(Setup S, Guid Id, PortalClient First, PortalClient Second)> InReviewAsync(string slug, string piEmail, string piInstitution, string firstEmail, string secondEmail,
        bool personalData = false)
    {
        var s = await ClosedCallAsync(slug, piEmail, piInstitution, personalData: personalData);
        var id = s.Proposals[0];
        await ScreenPassAsync(s, id);
        var first = await ReviewerAsync(s, firstEmail, "Tokai");
        var second = await ReviewerAsync(s, secondEmail, "North");
        await AssignAsync(s, id, firstEmail);
        await AssignAsync(s, id, secondEmail);
        return (s, id, first, second);
    }

    /// <summary>One proposal screened, reviewed twice (reviewers at "one@tokai…" and "two@north…" with the given prefix) and decided: 8,000 hours awarded, not released.</summary>
    public async Task<(Setup S, Guid Id)> AwardedAsync(string slug, string piEmail, string piInstitution, string reviewerPrefix = "", bool personalData = false)
    {
        var (s, id, one, two) = await InReviewAsync(slug, piEmail, piInstitution, $"{reviewerPrefix}one@tokai.example.ac.jp", $"{reviewerPrefix}two@north.example.edu", personalData);
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

    public static async Task ReleaseAsync(Setup s)
    {
        using var released = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Ranking", new Dictionary<string, string>(), $"/Admin/Calls/{s.Slug}/Ranking?handler=Release");
        Assert.Equal(HttpStatusCode.Redirect, released.StatusCode);
    }
}

using System.Globalization;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Meta.ComputeAccess.Browser.Tests.Review;

public sealed class ResponseJourneyTests(BrowserFixture portal) : IClassFixture<BrowserFixture>
{
    private const string Title = "Multilingual retrieval for clinical notes";

    [Fact]
    public async Task The_admin_opens_the_response_phase_the_pi_responds_a_reviewer_revises_and_the_ranking_shows_both_scores()
    {
        var (slug, id) = await ReviewedProposalAsync();
        var csp = new List<string>();

        var admin = await portal.SignedInPageAsync("admin@reply-journey.example.org", csp);
        await admin.GotoAsync($"/Admin/Calls/{slug}/Ranking");
        // At 30 seconds past the minute: Chromium shows a datetime-local with step 1 and zero seconds as "HH:mm", and
        // Playwright calls a value that reads back otherwise malformed (the test failed once a minute's first second).
        var later = portal.Clock.GetUtcNow().AddDays(5).UtcDateTime;
        var deadline = new DateTime(later.Year, later.Month, later.Day, later.Hour, later.Minute, 30, DateTimeKind.Utc);
        await admin.GetByLabel("Responses until").FillAsync(deadline.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture));
        await admin.GetByRole(AriaRole.Button, new() { Name = "Open response phase" }).ClickAsync();
        await Expect(admin.GetByText("Response phase opened: the teams of 1 proposal were told.")).ToBeVisibleAsync();

        var pi = await portal.SignedInPageAsync("pi@reply-journey.example.edu", csp);
        await pi.GotoAsync($"/Proposals/Details/{id}");
        await pi.GetByRole(AriaRole.Link, new() { Name = "Read the reviews and your team's response" }).ClickAsync();
        await Expect(pi.GetByText("The evaluation covers only two languages.")).ToBeVisibleAsync();
        await Expect(pi.GetByText("Strong team, clear milestones for the release.")).ToBeVisibleAsync();
        await Expect(pi.GetByText("A confidential remark for the program team.")).ToHaveCountAsync(0);
        await pi.GetByLabel("Your response").FillAsync("We **will** evaluate on all six languages; the extra runs fit in the requested hours.");
        await pi.GetByRole(AriaRole.Button, new() { Name = "Submit response" }).ClickAsync();
        await Expect(pi.GetByText("Response submitted: the reviewers were told and may revise their reviews.")).ToBeVisibleAsync();
        await Expect(pi.GetByRole(AriaRole.Button, new() { Name = "Submit response" })).ToHaveCountAsync(0);

        var reviewer = await portal.SignedInPageAsync("rev.low@reply-north.example.edu", csp);
        await reviewer.GotoAsync($"/Reviews/Review/{id}");
        await Expect(reviewer.GetByRole(AriaRole.Heading, new() { Name = "The applicants' response to the reviews" })).ToBeVisibleAsync();
        await Expect(reviewer.Locator("strong", new() { HasText = "will" })).ToBeVisibleAsync();
        await reviewer.GetByLabel("Overall score (1–10)").SelectOptionAsync("7");
        await reviewer.GetByLabel("Why you revise your review").FillAsync("All six languages will be evaluated.");
        await reviewer.GetByRole(AriaRole.Button, new() { Name = "Revise review" }).ClickAsync();
        await Expect(reviewer.GetByText("Review revised; your reason and the score before it are kept.")).ToBeVisibleAsync();

        // Before the response: (8 + 4) / 2 = 6; after the revision: (8 + 7) / 2 = 7.5.
        await admin.GotoAsync($"/Admin/Calls/{slug}/Ranking");
        var row = admin.GetByRole(AriaRole.Row).Filter(new() { HasText = Title });
        await Expect(row).ToContainTextAsync("/ 6.00");
        await Expect(row).ToContainTextAsync("7.50");
        await Expect(row).ToContainTextAsync("responded");
        await Expect(row).ToContainTextAsync("1 review revised");

        await using var check = portal.NewDbContext();
        var revision = await check.ReviewRevisions.AsNoTracking().SingleAsync(r => r.ProposalId == id);
        Assert.Equal((4, 7), (revision.FromOverall, revision.ToOverall));
        Assert.Empty(csp);
    }

    /// <summary>A closed call with one proposal screened and reviewed by two reviewers (overall 8 and 4), through the review services.</summary>
    private async Task<(string Slug, Guid Id)> ReviewedProposalAsync()
    {
        var call = await portal.CreateOpenCallAsync("reply-journey", TimeSpan.FromHours(1));
        var pi = await portal.CreateUserAsync("pi@reply-journey.example.edu", institution: "Reply Lab");
        var admin = await portal.CreateUserAsync("admin@reply-journey.example.org", [Roles.Admin, Roles.Researcher], "Program");
        var high = await portal.CreateUserAsync("rev.high@reply-tokai.example.ac.jp", [Roles.Reviewer, Roles.Researcher], "Tokai");
        var low = await portal.CreateUserAsync("rev.low@reply-north.example.edu", [Roles.Reviewer, Roles.Researcher], "North");
        Guid id;
        Guid criterion;
        await using (var db = portal.NewDbContext())
        {
            var now = portal.Clock.GetUtcNow();
            var dbCall = await db.Calls.SingleAsync(c => c.Id == call.Id);
            criterion = dbCall.Rubric[0].Id;
            var proposal = Proposal.StartDraft(dbCall, pi.Id, Title, now);
            proposal.UpdateDraft(new ProposalContent(Title, new string('a', 120), ["retrieval", "clinical text"], "Natural language processing", new string('j', 120),
                false, "", false, "", "Apache-2.0", PlannedOutputs.Code, "", [new RequestedHours(call.ClusterId, 10_000m, 5_000m)], false, ""), dbCall, now);
            proposal.Submit(dbCall, pi.Id, now);
            db.Proposals.Add(proposal);
            dbCall.Close(now);
            await db.SaveChangesAsync();
            id = proposal.Id;
        }
        await portal.WithScopeAsync(async sp =>
        {
            await sp.GetRequiredService<ScreeningService>().ScreenAsync(id, new ScreeningInput(true, "", TechnicalCheck.Pass, "", new Dictionary<Guid, decimal>()), admin.Id, default);
            foreach (var (reviewer, overall, comment) in new[] { (high, 8, "Strong team, clear milestones for the release."), (low, 4, "The evaluation covers only two languages.") })
            {
                await sp.GetRequiredService<ReviewerPool>().AddAsync(call.Id, reviewer.Email!, admin.Id, default);
                await sp.GetRequiredService<ReviewAssignments>().AssignAsync(id, reviewer.Id, admin.Id, default);
                await sp.GetRequiredService<ReviewWriting>().SaveAsync(id, reviewer.Id, new ReviewContent(new Dictionary<Guid, int?> { [criterion] = 4 }, overall, 2,
                    new Dictionary<Guid, decimal?> { [call.ClusterId] = 6_000m }, comment, "A confidential remark for the program team."), submit: true, default);
            }
        });
        return (call.Slug, id);
    }
}

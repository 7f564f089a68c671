using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Meta.ComputeAccess.Browser.Tests.Review;

public sealed class ReviewJourneyTests(BrowserFixture portal) : IClassFixture<BrowserFixture>
{
    private Task<IPage> SignedInAsync(string email, List<string> csp) => portal.SignedInPageAsync(email, csp);

    [Fact]
    public async Task One_proposal_goes_from_submission_through_two_reviews_to_a_released_award_the_pi_accepts()
    {
        var call = await portal.CreateOpenCallAsync("review-journey", TimeSpan.FromHours(1));
        await portal.CreateUserAsync("pi@journey-lab.example.edu", institution: "Journey Lab");
        await portal.CreateUserAsync("admin@journey.example.org", [Roles.Admin, Roles.Researcher], "Program");
        await portal.CreateUserAsync("rev.one@tokai.example.ac.jp", [Roles.Reviewer, Roles.Researcher], "Tokai");
        await portal.CreateUserAsync("rev.two@northfield.example.edu", [Roles.Reviewer, Roles.Researcher], "Northfield");

        // The complete draft is arranged through the domain (the proposal journey test covers the form); submission happens in the browser.
        Guid id;
        await using (var db = portal.NewDbContext())
        {
            var now = portal.Clock.GetUtcNow();
            var dbCall = await db.Calls.SingleAsync(c => c.Id == call.Id);
            var piId = await db.Users.Where(u => u.Email == "pi@journey-lab.example.edu").Select(u => u.Id).SingleAsync();
            var draft = Proposal.StartDraft(dbCall, piId, "Open speech models for low-resource languages", now);
            draft.UpdateDraft(new ProposalContent(draft.Title,
                "We train and release open speech recognition models for four West African languages, with a new consented dataset and self-supervised pre-training.",
                ["speech recognition", "low-resource languages"], "Speech and audio",
                "Pre-training a 1B-parameter conformer on 40,000 hours of audio takes 64 GPUs for 25 days; fine-tuning and ablations add the rest.",
                false, "", false, "", "Apache-2.0 code; CC BY 4.0 data", PlannedOutputs.OpenWeights, "",
                [new RequestedHours(call.ClusterId, 10_000m, 5_000m)], false, ""), dbCall, now);
            db.Proposals.Add(draft);
            await db.SaveChangesAsync();
            id = draft.Id;
        }
        var csp = new List<string>();

        var pi = await SignedInAsync("pi@journey-lab.example.edu", csp);
        await pi.GotoAsync($"/Proposals/Edit/{id}");
        await pi.GetByRole(AriaRole.Button, new() { Name = "Submit", Exact = true }).ClickAsync();
        await Expect(pi.GetByText("submitted", new() { Exact = true })).ToBeVisibleAsync();
        portal.Clock.Advance(TimeSpan.FromHours(2));

        var admin = await SignedInAsync("admin@journey.example.org", csp);
        await admin.GotoAsync($"/Admin/Calls/{call.Slug}/Screening");
        await admin.GetByRole(AriaRole.Link, new() { Name = "Screen Open speech models for low-resource languages" }).ClickAsync();
        // Nothing is chosen for the admin: the outcome is a judgement.
        await admin.GetByLabel("Eligible", new() { Exact = true }).CheckAsync();
        await admin.GetByLabel("Technical check").SelectOptionAsync(new SelectOptionValue { Label = "Pass" });
        await admin.GetByRole(AriaRole.Button, new() { Name = "Record screening" }).ClickAsync();
        await Expect(admin.GetByText("Screening passed: the proposal is in review.")).ToBeVisibleAsync();

        await admin.GotoAsync($"/Admin/Calls/{call.Slug}/Reviewers");
        foreach (var email in new[] { "rev.one@tokai.example.ac.jp", "rev.two@northfield.example.edu" })
        {
            await admin.GetByLabel("Add a reviewer").FillAsync(email);
            await admin.GetByRole(AriaRole.Button, new() { Name = "Add to pool" }).ClickAsync();
            await Expect(admin.GetByText("Added to the pool; conflicts checked.")).ToBeVisibleAsync();
        }
        await admin.GotoAsync($"/Admin/Calls/{call.Slug}/Assignment");
        foreach (var name in new[] { "rev.one", "rev.two" })
        {
            await admin.GetByLabel("Reviewer to assign").SelectOptionAsync(new SelectOptionValue { Label = name });
            await admin.GetByRole(AriaRole.Button, new() { Name = "Assign by hand" }).ClickAsync();
            await Expect(admin.GetByText("Reviewer assigned and notified.")).ToBeVisibleAsync();
        }

        foreach (var (email, hours, comment) in new[] { ("rev.one@tokai.example.ac.jp", "8000", "A clear plan with credible numbers."), ("rev.two@northfield.example.edu", "6000", "Worth funding; the ablations could be trimmed.") })
        {
            var reviewer = await SignedInAsync(email, csp);
            await reviewer.GotoAsync("/Reviews");
            await reviewer.GetByRole(AriaRole.Link, new() { Name = "Open speech models for low-resource languages" }).ClickAsync();
            await reviewer.GetByLabel("Merit (1–5)").SelectOptionAsync("4");
            await reviewer.GetByLabel("Overall score (1–10)").SelectOptionAsync("8");
            await reviewer.GetByLabel("Confidence (1–3)").SelectOptionAsync("2");
            await reviewer.GetByLabel("Recommended hours on Cluster review-journey").FillAsync(hours);
            await reviewer.GetByLabel("Comments for the applicants").FillAsync(comment);
            await reviewer.GetByRole(AriaRole.Button, new() { Name = "Submit review" }).ClickAsync();
            await Expect(reviewer.GetByText("Review submitted.")).ToBeVisibleAsync();
        }

        await admin.GotoAsync($"/Admin/Calls/{call.Slug}/Ranking");
        await admin.GetByRole(AriaRole.Link, new() { Name = "Open speech models for low-resource languages" }).ClickAsync();
        // The default award is the median recommendation: (8,000 + 6,000) / 2.
        await Expect(admin.GetByLabel("Hours on Cluster review-journey")).ToHaveValueAsync("7000.00");
        await admin.GetByLabel("Message to the applicants").FillAsync("Congratulations from the program.");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Record decision" }).ClickAsync();
        await Expect(admin.GetByText("Decision recorded.")).ToBeVisibleAsync();

        // The clock moved past the idle limit since the PI submitted: a fresh sign-in, as a real PI would need.
        pi = await SignedInAsync("pi@journey-lab.example.edu", csp);
        await pi.GotoAsync($"/Proposals/Details/{id}");
        await Expect(pi.GetByRole(AriaRole.Heading, new() { Name = "Open speech models for low-resource languages" })).ToBeVisibleAsync();
        await Expect(pi.GetByText("Congratulations from the program.")).ToHaveCountAsync(0);

        await admin.GetByRole(AriaRole.Button, new() { Name = "Release 1 decision" }).ClickAsync();
        await Expect(admin.GetByText("Released 1 decision; the applicants were notified.")).ToBeVisibleAsync();

        await pi.GotoAsync($"/Proposals/Details/{id}");
        await Expect(pi.GetByRole(AriaRole.Heading, new() { Name = "Decision: awarded" })).ToBeVisibleAsync();
        await Expect(pi.GetByText("7,000 accelerator-hours on Cluster review-journey")).ToBeVisibleAsync();
        await Expect(pi.GetByText("A clear plan with credible numbers.")).ToBeVisibleAsync();
        await pi.GetByRole(AriaRole.Button, new() { Name = "Accept award" }).ClickAsync();
        await Expect(pi.GetByText("Award accepted. Your allocation is being set up.")).ToBeVisibleAsync();

        await using var check = portal.NewDbContext();
        var proposal = await check.Proposals.AsNoTracking().Include(p => p.Awards).SingleAsync(p => p.Id == id);
        Assert.Equal(ProposalDecision.Awarded, proposal.Decision);
        Assert.Equal(AwardResponse.Accepted, proposal.AwardResponse);
        Assert.Equal(7000m, Assert.Single(proposal.Awards).Hours);
        Assert.Empty(csp);
    }
}

using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Meta.ComputeAccess.Browser.Tests.Proposals;

public sealed class ProposalJourneyTests(BrowserFixture portal) : IClassFixture<BrowserFixture>
{
    private static Task SignInAsync(IPage page, string email) => BrowserFixture.SignInAsync(page, email);

    [Fact]
    public async Task An_admin_creates_and_opens_a_call_with_a_cluster_and_a_rubric()
    {
        await portal.CreateUserAsync("admin@browser.example.org", [Roles.Admin, Roles.Researcher]);
        await using (var db = portal.NewDbContext())
        {
            db.Clusters.Add(Meta.ComputeAccess.Clusters.Cluster.Create("Grand Teton", "grand-teton", "H100 80GB", 64, 8, "grandteton", portal.Clock.GetUtcNow()));
            await db.SaveChangesAsync();
        }
        var (page, csp) = await portal.NewPageAsync();
        await SignInAsync(page, "admin@browser.example.org");

        await page.GotoAsync("/Admin/Calls");
        await page.GetByRole(AriaRole.Link, new() { Name = "New call" }).ClickAsync();
        await page.GetByLabel("Title").FillAsync("Autumn Call 2027");
        await page.GetByLabel("Slug").FillAsync("autumn-2027");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create draft" }).ClickAsync();

        await page.GetByLabel("Description (Markdown)").FillAsync("Hours on **Grand Teton** for open research.");
        var closes = portal.Clock.GetUtcNow().AddDays(30).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture);
        await page.GetByLabel("Closes").FillAsync(closes);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save description and schedule" }).ClickAsync();
        await Expect(page.GetByText("Saved.")).ToBeVisibleAsync();

        await page.GetByLabel("Budget (accelerator-hours)").FillAsync("500000");
        await page.GetByLabel("Min request").FillAsync("1000");
        await page.GetByLabel("Max request").FillAsync("50000");
        await page.GetByRole(AriaRole.Button, new() { Name = "Offer / update" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Cell, new() { Name = "500,000" })).ToBeVisibleAsync();

        await page.GetByLabel("New criterion").FillAsync("Scientific merit");
        await page.GetByLabel("Guidance for reviewers").FillAsync("Is the question important?");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Done: back to the call" }).ClickAsync();

        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Open call" }).ClickAsync();
        await Expect(page.GetByText("Opened.")).ToBeVisibleAsync();
        await Expect(page.GetByText("Open", new() { Exact = true })).ToBeVisibleAsync();

        await using var check = portal.NewDbContext();
        var call = await check.Calls.AsNoTracking().SingleAsync(c => c.Slug == "autumn-2027");
        Assert.Equal(Meta.ComputeAccess.Calls.CallStatus.Open, call.Status);
        Assert.Single(call.Rubric);
        Assert.True(await check.AuditEntries.AnyAsync(a => a.Action == "call.opened" && a.SubjectId == call.Id.ToString()));
        Assert.Empty(csp);
    }

    [Fact]
    public async Task A_researcher_goes_from_an_empty_dashboard_to_a_submitted_proposal_with_an_attachment()
    {
        var call = await portal.CreateOpenCallAsync("browser-call");
        await portal.CreateUserAsync("researcher@browser.example.edu");
        var (page, csp) = await portal.NewPageAsync();
        await SignInAsync(page, "researcher@browser.example.edu");
        await Expect(page.GetByText("You have no proposals yet.")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "See the open calls" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Call browser-call" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Start a proposal" }).ClickAsync();
        await page.GetByLabel("Working title").FillAsync("Open speech models");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create draft" }).ClickAsync();

        await page.GetByLabel("Abstract").FillAsync("We train and release open speech recognition models for four West African languages, with a new consented dataset and self-supervised pre-training.");
        await page.GetByLabel("Keywords").FillAsync("speech, low-resource languages");
        await page.GetByLabel("Research field").SelectOptionAsync("Speech and audio");
        await page.GetByLabel("Cluster browser-call").FillAsync("20000");
        await page.GetByLabel("Minimum viable hours").FillAsync("10000");
        await page.GetByLabel("Compute justification").FillAsync("Pre-training a 1B-parameter conformer on 40,000 hours of audio takes 64 GPUs for 25 days; fine-tuning adds the rest of the hours.");
        await page.Locator("#pd-no").CheckAsync();
        await page.Locator("#hs-no").CheckAsync();
        await page.Locator("#du-no").CheckAsync();
        await page.GetByLabel("Licences of the models and data you use").FillAsync("Apache-2.0 code; CC BY 4.0 data");
        await page.GetByLabel("Open weights").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();
        await Expect(page.GetByText("Draft saved.")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Attachments" }).Last.ClickAsync();
        await page.GetByLabel("PDF file").SetInputFilesAsync(new FilePayload { Name = "description.pdf", MimeType = "application/pdf", Buffer = TestCalls.Pdf() });
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "description.pdf" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Back to the proposal" }).ClickAsync();
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit" }).ClickAsync();
        await Expect(page.GetByText("Submitted. The whole team can follow its progress here.")).ToBeVisibleAsync();
        await Expect(page.GetByText("submitted", new() { Exact = true })).ToBeVisibleAsync();

        await using var db = portal.NewDbContext();
        var proposal = await db.Proposals.AsNoTracking().SingleAsync(p => p.CallId == call.Id);
        Assert.Equal(ProposalStatus.Submitted, proposal.Status);
        Assert.Equal(1, await db.ProposalAttachments.CountAsync(a => a.ProposalId == proposal.Id));
        Assert.Empty(csp);
    }
}

using Deque.AxeCore.Playwright;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Meta.ComputeAccess.Browser.Tests.Account;

/// <summary>The terms of use in a browser: an admin publishes them, and every signed-in person meets them before anything else.</summary>
public sealed class TermsGateJourneyTests(BrowserFixture portal) : IClassFixture<BrowserFixture>
{
    private static async Task SignInToAsync(IPage page, string email)
    {
        await page.GotoAsync("/Account/Login");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(TestUsers.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
    }

    [Fact]
    public async Task Published_terms_of_use_come_before_the_dashboard_until_accepted()
    {
        await portal.CreateUserAsync("admin@terms-journey.example.org", [Roles.Admin, Roles.Researcher], "Program");
        await portal.CreateUserAsync("reader@terms-journey.example.edu");
        var csp = new List<string>();
        var admin = await portal.SignedInPageAsync("admin@terms-journey.example.org", csp);

        // The admin publishes version 1, and is the first to be asked for it.
        await admin.GotoAsync("/Admin/Terms");
        await admin.GetByLabel("Text (Markdown)").FillAsync("Use the hours **only** for the research you proposed.");
        await admin.GetByLabel("What changed, in a line").FillAsync("First version");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Publish version 1" }).ClickAsync();
        await Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "Terms of use" })).ToBeVisibleAsync();
        await admin.GetByLabel("I have read the terms of use (version 1) and accept them").CheckAsync();
        await admin.GetByRole(AriaRole.Button, new() { Name = "Accept and continue" }).ClickAsync();
        await Expect(admin.GetByText("Version 1 (current)")).ToBeVisibleAsync();

        // A researcher signing in meets the terms instead of the dashboard, and every other page sends them back.
        var (reader, violations) = await portal.NewPageAsync();
        await SignInToAsync(reader, "reader@terms-journey.example.edu");
        await Expect(reader.GetByRole(AriaRole.Heading, new() { Name = "Terms of use" })).ToBeVisibleAsync();
        await Expect(reader.Locator("article strong")).ToHaveTextAsync("only");
        var axe = await reader.RunAxe();
        Assert.Empty(axe.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => v.Id));
        await reader.GotoAsync("/Proposals");
        await Expect(reader.GetByRole(AriaRole.Heading, new() { Name = "Terms of use" })).ToBeVisibleAsync();

        // Not ticked: asked again; ticked: on to the page they wanted.
        await reader.GetByRole(AriaRole.Button, new() { Name = "Accept and continue" }).ClickAsync();
        await Expect(reader.GetByText("Tick the box to accept the terms of use")).ToBeVisibleAsync();
        await reader.GetByLabel("I have read the terms of use (version 1) and accept them").CheckAsync();
        await reader.GetByRole(AriaRole.Button, new() { Name = "Accept and continue" }).ClickAsync();
        await Expect(reader.GetByRole(AriaRole.Heading, new() { Name = "Your proposals" })).ToBeVisibleAsync();
        await reader.GotoAsync("/");
        await Expect(reader.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
        Assert.Empty(csp);
        Assert.Empty(violations);
    }
}

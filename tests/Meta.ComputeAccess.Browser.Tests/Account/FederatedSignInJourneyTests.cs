using Meta.ComputeAccess.Testing;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Meta.ComputeAccess.Browser.Tests.Account;

/// <summary>
/// Sign-in through the test identity provider in Chromium, the portal and the provider each on their own port:
/// a first sign-in creates the account, an existing account is linked only with its password, and a broken identity
/// token is refused with a page that says so.
/// </summary>
public sealed class FederatedSignInJourneyTests(FederatedBrowserFixture portal) : IClassFixture<FederatedBrowserFixture>
{
    [Fact]
    public async Task A_researcher_signs_up_with_the_institution_links_an_existing_account_and_a_forged_answer_is_refused()
    {
        var (page, csp) = await portal.NewPageAsync();
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        // The first button click is the portal's first discovery and key fetch and the provider's first requests: on a
        // loaded machine that cold start alone can take Playwright's default 30 s. A longer wait, not a timed assertion.
        page.SetDefaultTimeout(120_000);

        // First sign-in: the provider's login page, then the short form with what the provider did not send.
        await page.GotoAsync("/Account/Login");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with Demo institution" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Demo identity provider" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Alice Nakamura" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Finish creating your account" })).ToBeVisibleAsync();
        await AssertAccessibleAsync(page);
        await Expect(page.GetByLabel("Full name")).ToHaveValueAsync("Alice Nakamura");
        await Expect(page.GetByLabel("Institution")).ToHaveValueAsync("Example State University");
        await page.GetByLabel("Country").SelectOptionAsync("JP");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();

        await page.GotoAsync("/Account/Security");
        await Expect(page.Locator("#linked-sign-ins")).ToContainTextAsync("Demo institution");
        await Expect(page.Locator("#linked-sign-ins")).ToContainTextAsync("your only way in");
        await SignOutAsync(page);

        // An existing password account with the address the provider vouches for: linked only with its password.
        await portal.CreateUserAsync("amara.okafor@lakeside.example.edu");
        await page.GotoAsync("/Account/Login");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with Demo institution" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Amara Okafor" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "You already have an account" })).ToBeVisibleAsync();
        await AssertAccessibleAsync(page);
        await page.GetByLabel("Password of your account").FillAsync("a wrong guess entirely");
        await page.GetByRole(AriaRole.Button, new() { Name = "Link and sign in" }).ClickAsync();
        await Expect(page.GetByText("Wrong password.")).ToBeVisibleAsync();
        await page.GetByLabel("Password of your account").FillAsync(TestUsers.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Link and sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
        await Expect(page.GetByText("Linked: you can now sign in with Demo institution.")).ToBeVisibleAsync();
        await SignOutAsync(page);

        // A forged answer: the provider signs a token claiming another issuer.
        int users;
        await using (var db = portal.NewDbContext())
        {
            users = await db.Users.CountAsync();
        }
        await page.GotoAsync("/Account/Login");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with Demo institution" }).ClickAsync();
        await page.GetByLabel("Identity token").SelectOptionAsync("issuer");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sam Rivera" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign-in through Demo institution did not work" })).ToBeVisibleAsync();
        await Expect(page.Locator("#external-failure")).ToContainTextAsync("could not be verified");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Sign in", Exact = true })).ToBeVisibleAsync();
        await using (var db = portal.NewDbContext())
        {
            Assert.Equal(users, await db.Users.CountAsync());
        }
        Assert.Empty(csp);
    }

    private static async Task SignOutAsync(IPage page)
    {
        await page.Locator("#account-menu").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true }).ClickAsync();
        await Expect(page.GetByText("You are signed out.")).ToBeVisibleAsync();
    }

    /// <summary>The pages only a provider sign-in reaches get the same axe-core scan as every other page (AccessibilityTests).</summary>
    private static async Task AssertAccessibleAsync(IPage page)
    {
        var result = await page.RunAxe();
        Assert.Empty(result.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{v.Id}: {v.Help}"));
    }
}

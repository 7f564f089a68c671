using System.Text.RegularExpressions;
using Meta.ComputeAccess.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Meta.ComputeAccess.Browser.Tests.Account;

public sealed partial class RegisterAndSignInTests(BrowserFixture portal) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task A_researcher_registers_confirms_and_signs_in_through_the_real_pages()
    {
        var (page, csp) = await portal.NewPageAsync();

        await page.GotoAsync("/");
        await page.GetByRole(AriaRole.Link, new() { Name = "Create an account" }).ClickAsync();
        await page.GetByLabel("Full name").FillAsync("Grace Hopper");
        await page.GetByLabel("Institution").FillAsync("Naval Research Laboratory");
        await page.GetByLabel("Country").SelectOptionAsync("US");
        await page.GetByLabel("ORCID iD").FillAsync("0000-0002-1825-0097");
        await page.GetByLabel("Email").FillAsync("grace@nrl.example.mil");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync("cobol was a good idea");
        await page.GetByLabel("Repeat password").FillAsync("cobol was a good idea");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Check your email" })).ToBeVisibleAsync();

        // The confirmation link arrives through the outbox, as a real user's mail would carry it.
        string link;
        await using (var db = portal.NewDbContext())
        {
            var mail = await db.OutboxMessages.SingleAsync(m => m.ToAddress == "grace@nrl.example.mil" && m.Status == OutboxStatus.Pending);
            link = ConfirmLink().Match(mail.TextBody).Value;
        }
        await page.GotoAsync(new Uri(link).PathAndQuery);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Email confirmed" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Main).GetByRole(AriaRole.Link, new() { Name = "Sign in" }).ClickAsync();
        await page.GetByLabel("Email").FillAsync("grace@nrl.example.mil");
        await page.GetByLabel("Password").FillAsync("cobol was a good idea");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
        // The menu opens by Bootstrap's script, which runs at the end of the page: the heading can show before it has
        // (a click then did nothing, once in a loaded CI run).
        await page.WaitForLoadStateAsync(LoadState.Load);
        // The account menu carries the person's name; opened, it shows the address they signed in with.
        await page.GetByRole(AriaRole.Button, new() { Name = "Grace Hopper" }).ClickAsync();
        await Expect(page.GetByText("grace@nrl.example.mil")).ToBeVisibleAsync();
        Assert.Empty(csp);
    }

    [GeneratedRegex(@"http://localhost/Account/ConfirmEmail\S+")]
    private static partial Regex ConfirmLink();
}

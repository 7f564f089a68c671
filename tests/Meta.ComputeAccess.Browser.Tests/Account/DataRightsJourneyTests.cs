using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Meta.ComputeAccess.Browser.Tests.Account;

/// <summary>A researcher downloads their data from the security page, then closes the account, in a real browser.</summary>
public sealed class DataRightsJourneyTests(BrowserFixture portal) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task A_researcher_downloads_their_data_and_closes_the_account()
    {
        var person = await portal.CreateUserAsync("noor.haddad@leaving.example.edu");
        await using (var db = portal.NewDbContext())
        {
            (await db.Users.SingleAsync(u => u.Id == person.Id)).FullName = "Noor Haddad";
            await db.SaveChangesAsync();
        }
        var csp = new List<string>();
        var page = await portal.SignedInPageAsync("noor.haddad@leaving.example.edu", csp);

        await page.GotoAsync("/Account/Security");
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Download my data" }).ClickAsync());
        Assert.Matches(@"^meta-compute-access-my-data-\d{4}-\d{2}-\d{2}\.json$", download.SuggestedFilename);
        using (var json = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(await download.PathAsync())))
        {
            Assert.Equal("noor.haddad@leaving.example.edu", json.RootElement.GetProperty("account").GetProperty("email").GetString());
            Assert.Equal("Noor Haddad", json.RootElement.GetProperty("account").GetProperty("fullName").GetString());
            Assert.NotEqual(0, json.RootElement.GetProperty("signInHistory").GetArrayLength());
        }

        await page.GetByRole(AriaRole.Link, new() { Name = "Close my account" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Close your account" })).ToBeVisibleAsync();
        await page.GetByLabel("Your password").FillAsync("a wrong password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Close my account for good" }).ClickAsync();
        await Expect(page.GetByText("That is not your password")).ToBeVisibleAsync();
        await page.GetByLabel("Your password").FillAsync(TestUsers.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Close my account for good" }).ClickAsync();
        await Expect(page.GetByText("Your account is closed")).ToBeVisibleAsync();

        // Signed out, and the old password opens nothing.
        await page.GotoAsync("/Account/Login");
        await page.GetByLabel("Email").FillAsync("noor.haddad@leaving.example.edu");
        await page.GetByLabel("Password").FillAsync(TestUsers.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Expect(page.GetByText("Wrong email or password.")).ToBeVisibleAsync();
        await using (var db = portal.NewDbContext())
        {
            Assert.StartsWith("Former user ", await db.Users.Where(u => u.Id == person.Id).Select(u => u.FullName).SingleAsync(), StringComparison.Ordinal);
        }
        Assert.Empty(csp);
    }
}

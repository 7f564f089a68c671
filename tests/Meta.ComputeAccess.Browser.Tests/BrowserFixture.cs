using Meta.ComputeAccess.Testing;
using Microsoft.Playwright;

namespace Meta.ComputeAccess.Browser.Tests;

/// <summary>
/// The portal on a real Kestrel port with its own database, and Debian's Chromium driven by Playwright
/// (no browser download: /usr/bin/chromium). One per test class; <see cref="Accessibility.DemoBrowserFixture"/> adds the demo program.
/// </summary>
public class BrowserFixture : PortalFactory
{
    private IPlaywright? playwright;

    public IBrowser Browser { get; private set; } = null!;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Also start the test identity provider and offer it on the sign-in page.</summary>
    protected virtual bool WithIdentityProvider => false;

    public override async Task InitializeAsync()
    {
        if (WithIdentityProvider)
        {
            await UseIdentityProviderAsync();
        }
        await base.InitializeAsync();
        BaseUrl = StartOnKestrel();
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("PORTAL_TEST_CHROMIUM") ?? "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
        });
    }

    /// <summary>A fresh browser context (its own cookies) whose console CSP violations are collected.</summary>
    public async Task<(IPage Page, List<string> CspViolations)> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseUrl });
        var page = await context.NewPageAsync();
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                violations.Add(message.Text);
            }
        };
        return (page, violations);
    }

    /// <summary>
    /// A fresh page signed in as <paramref name="email"/> through the real sign-in form, with confirmation dialogs
    /// accepted and its CSP violations added to <paramref name="csp"/>.
    /// </summary>
    public async Task<IPage> SignedInPageAsync(string email, List<string> csp)
    {
        var (page, violations) = await NewPageAsync();
        page.Console += (_, m) =>
        {
            if (m.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                csp.Add(m.Text);
            }
        };
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await SignInAsync(page, email);
        return page;
    }

    /// <summary>Signs <paramref name="page"/> in through the real sign-in form and waits for the dashboard.</summary>
    public static async Task SignInAsync(IPage page, string email)
    {
        await page.GotoAsync("/Account/Login");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(TestUsers.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        playwright?.Dispose();
        await base.DisposeAsync();
    }
}

/// <summary>The browser fixture with the test identity provider on its own port, offered on the sign-in page.</summary>
public sealed class FederatedBrowserFixture : BrowserFixture
{
    protected override bool WithIdentityProvider => true;
}

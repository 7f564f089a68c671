using System.Net;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Account;

public sealed class SignInTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Anonymous_visitor_of_a_protected_page_is_sent_to_sign_in()
    {
        using var client = new PortalClient(factory);
        using var response = await client.GetAsync("/Account/Profile");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/Login", response.Headers.Location!.AbsolutePath);
        Assert.Contains("ReturnUrl=%2FAccount%2FProfile", response.Headers.Location.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_in_page_without_configured_providers_offers_the_password_only()
    {
        using var client = new PortalClient(factory);
        using var response = await client.GetAsync("/Account/Login");
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("Input.Password", page, StringComparison.Ordinal);
        Assert.DoesNotContain("external-providers", page, StringComparison.Ordinal);
        Assert.DoesNotContain("/Account/ExternalLogin", page, StringComparison.Ordinal);
        Assert.Contains("form-action 'self';", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Five_wrong_passwords_pause_the_address_even_against_the_right_one()
    {
        await factory.CreateUserAsync("guessed@example.edu");
        using var client = new PortalClient(factory);
        for (var i = 0; i < 5; i++)
        {
            using var wrong = await client.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = "guessed@example.edu", ["Input.Password"] = $"wrong password {i}" });
            if (i < 4)
            {
                Assert.Contains("Wrong email or password", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }
        using var right = await client.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = "guessed@example.edu", ["Input.Password"] = TestUsers.Password });
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.Equal("/Account/Lockout", right.Headers.Location!.OriginalString);

        // The pause is kept per address typed (as for addresses without an account), not on the account.
        await using var db = factory.NewDbContext();
        Assert.Null(await db.Users.Where(u => u.Email == "guessed@example.edu").Select(u => u.LockoutEnd).SingleAsync());
        var window = await db.RateLimitWindows.SingleAsync(w => w.ClientKey == SignInThrottles.KeyOf("GUESSED@EXAMPLE.EDU"));
        Assert.Equal(5, window.Count);
    }

    [Fact]
    public async Task A_paused_address_signs_in_again_once_its_window_has_ended()
    {
        await factory.CreateUserAsync("waited@example.edu");
        using var client = new PortalClient(factory);
        for (var i = 0; i < 5; i++)
        {
            using (await client.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = "waited@example.edu", ["Input.Password"] = $"wrong password {i}" }))
            {
            }
        }
        factory.Clock.Advance(TimeSpan.FromMinutes(15));
        using var right = await client.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = "waited@example.edu", ["Input.Password"] = TestUsers.Password });
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.Equal("/", right.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Return_url_to_another_site_is_ignored_after_sign_in()
    {
        await factory.CreateUserAsync("redirected@example.edu");
        using var client = new PortalClient(factory);
        using var response = await client.PostFormAsync("/Account/Login?returnUrl=https%3A%2F%2Fevil.example.com%2F", new Dictionary<string, string> { ["Input.Email"] = "redirected@example.edu", ["Input.Password"] = TestUsers.Password });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }
}

using System.Net;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Account;

/// <summary>
/// With two-factor required for staff (the production default): a provider that checked a second factor itself
/// (amr mfa, or an acr the provider's configuration accepts) stands in for the authenticator code; otherwise staff
/// need the portal's own, as after a password.
/// </summary>
public sealed class FederatedStaffTwoFactorTests(FederatedPortalFactory portal) : IClassFixture<FederatedPortalFactory>
{
    /// <summary>An admin account created by a first sign-in through the provider, then given the Admin role.</summary>
    private async Task AdminThroughProviderAsync(string person, string name)
    {
        using var client = new PortalClient(portal);
        var form = await client.SignInThroughProviderAsync(portal, person);
        using (await client.PostFormAsync(form, new Dictionary<string, string> { ["Input.FullName"] = name, ["Input.Institution"] = "Example State University", ["Input.Country"] = "NG" }))
        {
        }
        await portal.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<PortalUser>>();
            var user = (await users.FindByLoginAsync(TestIdentityProvider.Institution, Meta.ComputeAccess.OidcProvider.ProviderPeople.Find(person)!.Subject))!;
            await users.AddToRoleAsync(user, Roles.Admin);
        });
    }

    [Fact]
    public async Task Staff_whose_provider_checked_a_second_factor_reach_admin_pages_without_an_authenticator_code()
    {
        await AdminThroughProviderAsync("grace", "Grace Okoye");
        using var client = new PortalClient(portal);
        Assert.Equal("/", await client.SignInThroughProviderAsync(portal, "grace"));
        Assert.Contains("Users and roles", await client.GetPageAsync("/Admin/Users"), StringComparison.Ordinal);

        // It lasts as long as the session: across security-stamp checks and a profile change (which rebuilds the sign-in).
        portal.Clock.Advance(TimeSpan.FromMinutes(6));
        await client.GetPageAsync("/Admin/Audit");
        using (var saved = await client.PostFormAsync("/Account/Profile", new Dictionary<string, string>
        {
            ["Input.FullName"] = "Grace A. Okoye",
            ["Input.Institution"] = "Example State University",
            ["Input.Country"] = "NG",
        }))
        {
            Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        }
        await client.GetPageAsync("/Admin/Users");
    }

    [Fact]
    public async Task Staff_whose_provider_signals_mfa_through_an_accepted_acr_reach_admin_pages()
    {
        await AdminThroughProviderAsync("hiro", "Hiro Tanaka");
        using var client = new PortalClient(portal);
        Assert.Equal("/", await client.SignInThroughProviderAsync(portal, "hiro"));
        await client.GetPageAsync("/Admin/Users");
    }

    [Fact]
    public async Task Staff_whose_provider_checked_one_factor_are_sent_to_set_up_the_authenticator_and_then_asked_for_its_code()
    {
        await AdminThroughProviderAsync("alice", "Alice Nakamura");
        using var client = new PortalClient(portal);
        Assert.Equal("/", await client.SignInThroughProviderAsync(portal, "alice"));
        using (var refused = await client.GetAsync("/Admin/Users"))
        {
            Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
            Assert.Equal("/Account/TwoFactor?required=true&returnUrl=%2FAdmin%2FUsers", refused.Headers.Location!.OriginalString);
        }
        var (key, _) = await client.EnableTwoFactorAsync();
        await client.GetPageAsync("/Admin/Users");

        // Next time, after the provider, the portal asks for the code.
        using var next = new PortalClient(portal);
        var step = await next.SignInThroughProviderAsync(portal, "alice");
        Assert.StartsWith("/Account/LoginWith2fa", step, StringComparison.Ordinal);
        using (var nothingYet = await next.GetAsync("/Admin/Users"))
        {
            Assert.Equal(HttpStatusCode.Redirect, nothingYet.StatusCode);
        }
        using (var code = await next.PostFormAsync(step, new Dictionary<string, string> { ["Input.Code"] = Totp.Code(key) }))
        {
            Assert.Equal(HttpStatusCode.Redirect, code.StatusCode);
        }
        await next.GetPageAsync("/Admin/Users");
    }
}

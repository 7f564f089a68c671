using System.Net;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;

namespace Meta.ComputeAccess.Web.Tests.Account;

/// <summary>With Security:RequireTwoFactorForStaff on (the production default), as the portal runs outside the local demo.</summary>
public sealed class StaffTwoFactorTests(StaffTwoFactorPortalFactory factory) : IClassFixture<StaffTwoFactorPortalFactory>
{
    [Fact]
    public async Task Admin_without_two_factor_is_sent_to_set_it_up_and_reaches_admin_pages_once_signed_in_with_it()
    {
        var admin = await factory.CreateUserAsync("new.admin@program.example.org", [Roles.Admin, Roles.Researcher]);
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);

        using (var refused = await client.GetAsync("/Admin/Users"))
        {
            Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
            Assert.Equal("/Account/TwoFactor?required=true&returnUrl=%2FAdmin%2FUsers", refused.Headers.Location!.OriginalString);
        }
        using (var jobs = await client.GetAsync("/admin/jobs"))
        {
            Assert.StartsWith("/Account/TwoFactor?required=true&returnUrl=%2Fadmin%2Fjobs", jobs.Headers.Location?.OriginalString, StringComparison.Ordinal);
        }
        var why = await client.GetPageAsync("/Account/TwoFactor?required=true&returnUrl=%2FAdmin%2FUsers");
        Assert.Contains("staff pages need two-factor sign-in", why, StringComparison.Ordinal);

        // Turning it on proves the second factor in this session: the admin pages open without signing in again.
        var (key, _) = await client.EnableTwoFactorAsync();
        await client.GetPageAsync("/Admin/Users");

        // And a new sign-in with password and code reaches them too, while the password alone does not.
        using var next = new PortalClient(factory);
        using (var signedIn = await next.SignInWithCodeAsync(admin.Email!, key))
        {
            Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        }
        await next.GetPageAsync("/Admin/Users");
        await next.GetPageAsync("/Admin/Audit");
    }

    [Fact]
    public async Task Staff_session_keeps_its_two_factor_sign_in_across_security_stamp_checks()
    {
        var (client, _) = await factory.StaffClientAsync("steady@program.example.org", [Roles.Admin]);
        using (client)
        {
            // Each step is past the 5-minute stamp check (which rebuilds the claims) and within the idle limit.
            for (var i = 0; i < 3; i++)
            {
                factory.Clock.Advance(TimeSpan.FromMinutes(6));
                using var response = await client.GetAsync("/Admin/Users");
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"step {i + 1}: {(int)response.StatusCode} {response.Headers.Location}");
                Assert.Contains("Users and roles", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                // The check did rebuild the sign-in (a new auth cookie) and the two-factor mark came along: the admin page still opens.
                Assert.Contains(response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [], c => c.StartsWith("mca.auth=", StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public async Task Admin_signed_in_from_a_remembered_browser_reaches_admin_pages_without_a_code()
    {
        var admin = await factory.CreateUserAsync("trusted.laptop@program.example.org", [Roles.Admin]);
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);
        var (key, _) = await client.EnableTwoFactorAsync();
        using (await client.PostFormAsync("/Account/Profile", [], "/Account/Logout"))
        {
        }
        using (var withCode = await client.SignInWithCodeAsync(admin.Email!, key, rememberBrowser: true))
        {
            Assert.Equal(HttpStatusCode.Redirect, withCode.StatusCode);
        }
        using (await client.PostFormAsync("/Account/Profile", [], "/Account/Logout"))
        {
        }

        using var password = await client.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = admin.Email!, ["Input.Password"] = TestUsers.Password });
        Assert.Equal("/", password.Headers.Location!.OriginalString);
        await client.GetPageAsync("/Admin/Users");
    }

    [Fact]
    public async Task Admin_who_turns_two_factor_off_loses_the_admin_pages_at_once()
    {
        var (client, key) = await factory.StaffClientAsync("second.thoughts@program.example.org", [Roles.Admin]);
        using (client)
        {
            await client.GetPageAsync("/Admin/Users");
            using (var off = await client.PostFormAsync("/Account/TwoFactor", new Dictionary<string, string> { ["Input.Code"] = Totp.Code(key) }, "/Account/TwoFactor?handler=Disable"))
            {
                Assert.Equal(HttpStatusCode.Redirect, off.StatusCode);
            }
            using var refused = await client.GetAsync("/Admin/Users");
            Assert.StartsWith("/Account/TwoFactor?required=true", refused.Headers.Location?.OriginalString, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Researcher_is_refused_admin_pages_with_the_not_allowed_page_not_the_two_factor_page()
    {
        var researcher = await factory.CreateUserAsync("curious@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync(researcher.Email!);
        using var response = await client.GetAsync("/Admin/Users");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/AccessDenied", response.Headers.Location!.AbsolutePath);

        // Two-factor does not give a researcher a staff role either.
        await client.EnableTwoFactorAsync();
        using var still = await client.GetAsync("/Admin/Users");
        Assert.Equal("/Account/AccessDenied", still.Headers.Location!.AbsolutePath);
    }
}

using System.Net;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Account;

/// <summary>Idle (30 min), absolute (12 h) and security-stamp (5 min) limits, on the portal's fake clock (ending a session on the server: ServerSessionTests).</summary>
public sealed class SessionLimitTests(StaffTwoFactorPortalFactory factory) : IClassFixture<StaffTwoFactorPortalFactory>
{
    private static readonly TimeSpan ValidationInterval = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Session_unused_for_longer_than_the_idle_limit_ends_and_a_used_one_goes_on()
    {
        var user = await factory.CreateUserAsync("idle@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync(user.Email!);

        // Used every 20 minutes, the session outlives several idle limits.
        for (var i = 0; i < 4; i++)
        {
            factory.Clock.Advance(TimeSpan.FromMinutes(20));
            await client.GetPageAsync("/Account/Profile");
        }
        factory.Clock.Advance(TimeSpan.FromMinutes(31));
        using var response = await client.GetAsync("/Account/Profile");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/Login", response.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task Keep_me_signed_in_outlasts_the_idle_limit_but_not_the_absolute_limit()
    {
        var user = await factory.CreateUserAsync("marathon@example.edu");
        using var client = new PortalClient(factory);
        using (var signIn = await client.PostFormAsync("/Account/Login", new Dictionary<string, string>
        {
            ["Input.Email"] = user.Email!,
            ["Input.Password"] = TestUsers.Password,
            ["Input.RememberMe"] = "true",
        }))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        }
        var signedInAt = factory.Clock.GetUtcNow();

        // Two hours without a request: past the 30-minute idle limit, within the remembered one.
        factory.Clock.Advance(TimeSpan.FromHours(2));
        await client.GetPageAsync("/Account/Profile");

        // Busy all day (a request every 50 minutes, renewals and stamp checks included) until just before 12 hours.
        while (factory.Clock.GetUtcNow() + TimeSpan.FromMinutes(50) < signedInAt + TimeSpan.FromHours(12))
        {
            factory.Clock.Advance(TimeSpan.FromMinutes(50));
            await client.GetPageAsync("/Account/Profile");
        }
        factory.Clock.Advance(signedInAt + TimeSpan.FromHours(12) - factory.Clock.GetUtcNow());
        using var response = await client.GetAsync("/Account/Profile");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/Login", response.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task Revoked_admin_role_takes_effect_within_the_validation_interval()
    {
        var (boss, _) = await factory.StaffClientAsync("boss@program.example.org", [Roles.Admin]);
        var (leaving, key) = await factory.StaffClientAsync("leaving@program.example.org", [Roles.Admin]);
        using (boss)
        using (leaving)
        {
            await leaving.GetPageAsync("/Admin/Users");
            var leavingId = await factory.WithScopeAsync(async sp =>
                (await sp.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync("leaving@program.example.org"))!.Id);
            var page = $"/Admin/Users/Edit?id={leavingId}";
            using (var revoke = await boss.PostFormAsync(page, new Dictionary<string, string> { ["role"] = Roles.Admin }, page + "&handler=Revoke"))
            {
                Assert.Equal(HttpStatusCode.Redirect, revoke.StatusCode);
            }

            // The admin page rotates the security stamp with the role: the session ends at its next validation.
            factory.Clock.Advance(ValidationInterval + TimeSpan.FromSeconds(1));
            using (var ended = await leaving.GetAsync("/Admin/Users"))
            {
                Assert.Equal(HttpStatusCode.Redirect, ended.StatusCode);
                Assert.Equal("/Account/Login", ended.Headers.Location!.AbsolutePath);
            }
            // Signed in again, with the code, the account has no Admin role any more.
            using (var again = await leaving.SignInWithCodeAsync("leaving@program.example.org", key))
            {
                Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
            }
            using var refused = await leaving.GetAsync("/Admin/Users");
            Assert.Equal("/Account/AccessDenied", refused.Headers.Location!.AbsolutePath);
        }
    }
}

using System.Net;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Account;

/// <summary>The security page lists the sign-ins linked to the account; another can be linked, one removed, never the last way in.</summary>
public sealed class LinkedSignInsTests(FederatedPortalFactory portal) : IClassFixture<FederatedPortalFactory>
{
    [Fact]
    public async Task The_only_way_into_an_account_cannot_be_removed_until_another_is_linked()
    {
        using var client = new PortalClient(portal);
        var form = await client.SignInThroughProviderAsync(portal, "alice");
        using (await client.PostFormAsync(form, new Dictionary<string, string>
        {
            ["Input.FullName"] = "Alice Nakamura",
            ["Input.Institution"] = "Example State University",
            ["Input.Country"] = "JP",
        }))
        {
        }
        var security = await client.GetPageAsync("/Account/Security");
        Assert.Contains("Demo institution", security, StringComparison.Ordinal);
        Assert.Contains("your only way in", security, StringComparison.Ordinal);
        Assert.DoesNotContain("handler=RemoveLogin", security, StringComparison.Ordinal);

        // Posted anyway: refused with the reason, still linked.
        var userId = await UserIdAsync("alice.nakamura@uni.example.edu");
        using (var refused = await client.PostFormAsync("/Account/Security", new Dictionary<string, string> { ["provider"] = TestIdentityProvider.Institution, ["providerKey"] = "alice-7f3a" }, "/Account/Security?handler=RemoveLogin"))
        {
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            Assert.Contains("is the only way into your account", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal([TestIdentityProvider.Institution], await LoginsAsync(userId));

        // Link ORCID from the security page: the provider's sign-in, bound to this account.
        using (var link = await client.PostFormAsync("/Account/Security", new Dictionary<string, string> { ["provider"] = TestIdentityProvider.Orcid }, "/Account/Security?handler=Link"))
        {
            Assert.Equal(HttpStatusCode.Redirect, link.StatusCode);
            var back = await portal.IdentityProvider!.AuthorizeAsync(link.Headers.Location!, "josiah");
            using var linked = await client.GetAsync(await FederatedSignInSteps.FinishAsync(client, back));
            Assert.Equal(HttpStatusCode.Redirect, linked.StatusCode);
            Assert.Equal("/Account/Security", linked.Headers.Location!.OriginalString);
        }
        Assert.Equal([TestIdentityProvider.Institution, TestIdentityProvider.Orcid], await LoginsAsync(userId));
        await using (var db = portal.NewDbContext())
        {
            var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == userId);
            Assert.Equal("0000-0002-1825-0097", user.OrcidId);
            Assert.True(user.OrcidIdVerified);
        }

        // Two ways in: either can go, and this session stays signed in.
        using (var removed = await client.PostFormAsync("/Account/Security", new Dictionary<string, string> { ["provider"] = TestIdentityProvider.Institution, ["providerKey"] = "alice-7f3a" }, "/Account/Security?handler=RemoveLogin"))
        {
            Assert.Equal(HttpStatusCode.Redirect, removed.StatusCode);
        }
        Assert.Equal([TestIdentityProvider.Orcid], await LoginsAsync(userId));
        Assert.Contains("your only way in", await client.GetPageAsync("/Account/Security"), StringComparison.Ordinal);

        // The removed sign-in no longer opens the account: it starts a new one.
        using var other = new PortalClient(portal);
        Assert.StartsWith("/Account/LinkLogin", await other.SignInThroughProviderAsync(portal, "alice"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_provider_sign_in_of_another_account_cannot_be_linked_to_this_one()
    {
        using var first = new PortalClient(portal);
        var form = await first.SignInThroughProviderAsync(portal, "hiro");
        using (await first.PostFormAsync(form, new Dictionary<string, string> { ["Input.FullName"] = "Hiro Tanaka", ["Input.Institution"] = "Example State University", ["Input.Country"] = "JP" }))
        {
        }
        var password = await portal.CreateUserAsync("password.person@example.edu");
        using var second = new PortalClient(portal);
        await second.SignInAsync(password.Email!);
        using var link = await second.PostFormAsync("/Account/Security", new Dictionary<string, string> { ["provider"] = TestIdentityProvider.Institution }, "/Account/Security?handler=Link");
        var back = await portal.IdentityProvider!.AuthorizeAsync(link.Headers.Location!, "hiro");
        using var answer = await second.GetAsync(back.PathAndQuery);
        using var page = await second.GetAsync(answer.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("linked to another account already", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await LoginsAsync(password.Id));
    }

    private async Task<Guid> UserIdAsync(string email)
    {
        await using var db = portal.NewDbContext();
        return await db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync();
    }

    private async Task<List<string>> LoginsAsync(Guid userId)
    {
        await using var db = portal.NewDbContext();
        return await db.UserLogins.Where(l => l.UserId == userId).OrderBy(l => l.LoginProvider).Select(l => l.LoginProvider).ToListAsync();
    }
}

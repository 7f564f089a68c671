using System.Net;
using Meta.ComputeAccess.OidcProvider;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Account;

/// <summary>
/// Answers from a provider that cannot be trusted are refused with a page that says so, and create, link or sign in
/// nothing: identity tokens with the wrong issuer, audience, expiry, nonce or signature (signed by the provider's
/// real key, only the one claim changed), a callback used twice or in another browser, and a cancelled sign-in.
/// </summary>
public sealed class TamperedSignInTests(FederatedPortalFactory portal) : IClassFixture<FederatedPortalFactory>
{
    public static TheoryData<string> Tamperings => [.. TokenTampering.Choices.Select(c => c.Value)];

    [Theory]
    [MemberData(nameof(Tamperings))]
    public async Task A_broken_identity_token_is_refused_with_a_clear_page_and_no_account(string tamper)
    {
        var before = await CountsAsync();
        using var client = new PortalClient(portal);
        var next = await client.SignInThroughProviderAsync(portal, "amara", tamper: tamper);
        Assert.Equal("/Account/ExternalLogin?handler=Failed&provider=demo&reason=Refused", next);
        var page = await client.GetPageAsync(next);
        Assert.Contains("could not be verified", page, StringComparison.Ordinal);
        Assert.Contains("No account was created or changed.", page, StringComparison.Ordinal);
        Assert.Equal(before, await CountsAsync());
        // Not half signed in either: no pending provider sign-in to finish, no session.
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/Account/ExternalSignup")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/Account/Profile")).StatusCode);
    }

    [Fact]
    public async Task A_callback_replayed_in_the_same_or_another_browser_is_refused()
    {
        using var client = new PortalClient(portal);
        var authorize = await FederatedSignInSteps.StartAsync(client, TestIdentityProvider.Institution);
        var callback = await portal.IdentityProvider!.AuthorizeAsync(authorize, "amara");
        Assert.StartsWith("/Account/ExternalSignup", await FederatedSignInSteps.FinishAsync(client, callback), StringComparison.Ordinal);

        var before = await CountsAsync();
        Assert.Equal("/Account/ExternalLogin?handler=Failed&provider=demo&reason=Refused", await FederatedSignInSteps.FinishAsync(client, callback));
        using var thief = new PortalClient(portal);
        Assert.Equal("/Account/ExternalLogin?handler=Failed&provider=demo&reason=Refused", await FederatedSignInSteps.FinishAsync(thief, callback));
        // The thief may have started a sign-in of their own: the stolen answer does not fit it.
        await FederatedSignInSteps.StartAsync(thief, TestIdentityProvider.Institution);
        Assert.Equal("/Account/ExternalLogin?handler=Failed&provider=demo&reason=Refused", await FederatedSignInSteps.FinishAsync(thief, callback));
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task A_sign_in_cancelled_at_the_provider_says_so_and_creates_nothing()
    {
        var before = await CountsAsync();
        using var client = new PortalClient(portal);
        var next = await client.SignInThroughProviderAsync(portal, "amara", cancel: true);
        Assert.Equal("/Account/ExternalLogin?handler=Failed&provider=demo&reason=Cancelled", next);
        Assert.Contains("You cancelled at Demo institution", await client.GetPageAsync(next), StringComparison.Ordinal);
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task An_unknown_provider_is_a_clear_refusal_not_an_error()
    {
        using var client = new PortalClient(portal);
        using var response = await client.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["provider"] = "nobody" }, "/Account/ExternalLogin");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not offered here", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<(int Users, int Logins)> CountsAsync()
    {
        await using var db = portal.NewDbContext();
        return (await db.Users.CountAsync(), await db.UserLogins.CountAsync());
    }
}

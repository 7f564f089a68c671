using System.Net;
using System.Security.Cryptography;
using Meta.ComputeAccess.OidcProvider;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Testing;

/// <summary>
/// The test OpenID Connect provider (tests/Meta.ComputeAccess.OidcProvider) on its own Kestrel port on loopback, with
/// real signed tokens, and a person's browser at it (<see cref="AuthorizeAsync"/>): the login form is posted over
/// HTTP as a browser would, with its own cookies. The portal is configured with it twice, as in the demo: "demo"
/// (an institution: idp_name, eduperson_scoped_affiliation, REFEDS MFA) and "orcid" (the subject is the ORCID iD).
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    public const string Institution = "demo";
    public const string InstitutionName = "Demo institution";
    public const string Orcid = "orcid";
    public const string OrcidName = "ORCID (demo)";
    public const string MfaAcr = "https://refeds.org/profile/mfa";

    private readonly WebApplication app;
    private readonly string secret;

    private TestIdentityProvider(WebApplication app, string url, string secret)
    {
        this.app = app;
        Url = url;
        this.secret = secret;
    }

    /// <summary>The issuer, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Url { get; }

    public static async Task<TestIdentityProvider> StartAsync()
    {
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var app = ProviderHost.Build(
        [
            "--urls", "http://127.0.0.1:0",
            $"--Provider:Clients:portal={secret}",
            $"--Provider:Clients:portal-orcid={secret}",
            "--Provider:AllowTampering=true",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var provider = new TestIdentityProvider(app, address.TrimEnd('/'), secret);
        await provider.WarmUpAsync();
        return provider;
    }

    /// <summary>
    /// Reads the discovery document and keys once, without a deadline: the provider's cold start (key generation, its
    /// first requests) then happens here, not inside the portal's 60-second wait for the same documents on a loaded machine.
    /// </summary>
    private async Task WarmUpAsync()
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = Timeout.InfiniteTimeSpan };
        foreach (var document in new[] { "/.well-known/openid-configuration", "/.well-known/jwks" })
        {
            using var response = await http.GetAsync(new Uri(document, UriKind.Relative));
            response.EnsureSuccessStatusCode();
        }
    }

    /// <summary>The portal's settings for this provider (<c>Authentication:Oidc:*</c>), as deploy/local/start.sh sets them.</summary>
    public IReadOnlyDictionary<string, string> PortalSettings() => new Dictionary<string, string>
    {
        [$"Authentication:Oidc:{Institution}:Authority"] = Url,
        [$"Authentication:Oidc:{Institution}:ClientId"] = "portal",
        [$"Authentication:Oidc:{Institution}:ClientSecret"] = secret,
        [$"Authentication:Oidc:{Institution}:DisplayName"] = InstitutionName,
        [$"Authentication:Oidc:{Institution}:Scopes"] = "openid email profile org.cilogon.userinfo",
        [$"Authentication:Oidc:{Institution}:ClaimMap:Institution"] = "idp_name",
        [$"Authentication:Oidc:{Institution}:ClaimMap:Affiliation"] = "eduperson_scoped_affiliation",
        [$"Authentication:Oidc:{Institution}:MfaAcrValues"] = MfaAcr,
        [$"Authentication:Oidc:{Institution}:RequireHttpsMetadata"] = "false",
        [$"Authentication:Oidc:{Orcid}:Authority"] = Url,
        [$"Authentication:Oidc:{Orcid}:ClientId"] = "portal-orcid",
        [$"Authentication:Oidc:{Orcid}:ClientSecret"] = secret,
        [$"Authentication:Oidc:{Orcid}:DisplayName"] = OrcidName,
        [$"Authentication:Oidc:{Orcid}:Scopes"] = "openid profile",
        [$"Authentication:Oidc:{Orcid}:ClaimMap:Orcid"] = "sub",
        [$"Authentication:Oidc:{Orcid}:RequireHttpsMetadata"] = "false",
    };

    /// <summary>
    /// What a person's browser does at the provider: opens <paramref name="authorize"/> (where the portal sent it),
    /// is asked to log in, picks <paramref name="person"/> (<see cref="ProviderPeople"/>), optionally asking for a
    /// broken identity token (<see cref="TokenTampering"/>) or cancelling, and is sent back: returns that redirect
    /// to the portal (code and state, or an error).
    /// </summary>
    public async Task<Uri> AuthorizeAsync(Uri authorize, string person, string? tamper = null, bool cancel = false)
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler) { BaseAddress = new Uri(Url) };
        using var ask = await browser.GetAsync(authorize);
        var login = new Uri(browser.BaseAddress, Expect(ask, "authorization request"));
        var returnUrl = QueryHelpers.ParseQuery(login.Query)["returnUrl"].ToString();
        var fields = new Dictionary<string, string> { ["returnUrl"] = returnUrl };
        fields[cancel ? "cancel" : "username"] = cancel ? "1" : person;
        if (tamper is not null)
        {
            fields["tamper"] = tamper;
        }
        using var form = new FormUrlEncodedContent(fields);
        using var loggedIn = await browser.PostAsync(new Uri("/login", UriKind.Relative), form);
        using var answer = await browser.GetAsync(new Uri(browser.BaseAddress, Expect(loggedIn, "login")));
        return new Uri(browser.BaseAddress, Expect(answer, "authorization answer"));
    }

    private static Uri Expect(HttpResponseMessage response, string step) =>
        response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location is { } location
            ? location
            : throw new InvalidOperationException($"The provider's {step} answered {(int)response.StatusCode}, not a redirect.");

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

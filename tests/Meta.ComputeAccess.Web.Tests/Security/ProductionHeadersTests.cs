using Meta.ComputeAccess.Testing;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Tests.Security;

/// <summary>Outside Development: HSTS on HTTPS, and every cookie Secure, HttpOnly and SameSite.</summary>
public sealed class ProductionHeadersTests(ProductionHeadersTests.ProductionPortal portal) : IClassFixture<ProductionHeadersTests.ProductionPortal>
{
    public sealed class ProductionPortal : PortalFactory
    {
        protected override string EnvironmentName => "Production";

        /// <summary>An identity provider too, so its cookies are checked; nothing is fetched from it.</summary>
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Authentication:Oidc:campus:Authority", "https://idp.example.org");
            builder.UseSetting("Authentication:Oidc:campus:ClientId", "portal");
        }
    }

    [Fact]
    public async Task Production_sends_hsts_and_marks_every_cookie_secure_httponly_and_samesite()
    {
        using var client = portal.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://compute.example.org"), AllowAutoRedirect = false });
        using var response = await client.GetAsync(new Uri("/Account/Login", UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}");
        Assert.Contains("max-age=", response.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);
        var cookies = response.Headers.GetValues("Set-Cookie").ToList();
        Assert.NotEmpty(cookies);
        Assert.All(cookies, c =>
        {
            var lower = c.ToLowerInvariant();
            Assert.Contains("; secure", lower, StringComparison.Ordinal);
            Assert.Contains("; httponly", lower, StringComparison.Ordinal);
            Assert.Contains("; samesite=", lower, StringComparison.Ordinal);
        });
        Assert.DoesNotContain("unsafe-inline", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void Production_sets_every_portal_cookie_to_always_secure_not_only_over_https()
    {
        var cookies = portal.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>();
        var oidc = portal.Services.GetRequiredService<IOptionsMonitor<Microsoft.AspNetCore.Authentication.OpenIdConnect.OpenIdConnectOptions>>();
        var policies = new Dictionary<string, CookieSecurePolicy>
        {
            ["sign-in"] = cookies.Get(IdentityConstants.ApplicationScheme).Cookie.SecurePolicy,
            ["two-factor device"] = cookies.Get(IdentityConstants.TwoFactorRememberMeScheme).Cookie.SecurePolicy,
            ["two-factor pending"] = cookies.Get(IdentityConstants.TwoFactorUserIdScheme).Cookie.SecurePolicy,
            ["flash messages"] = portal.Services.GetRequiredService<IOptions<CookieTempDataProviderOptions>>().Value.Cookie.SecurePolicy,
            ["antiforgery"] = portal.Services.GetRequiredService<IOptions<AntiforgeryOptions>>().Value.Cookie.SecurePolicy,
            ["provider sign-in in progress"] = cookies.Get(IdentityConstants.ExternalScheme).Cookie.SecurePolicy,
            ["provider correlation"] = oidc.Get("campus").CorrelationCookie.SecurePolicy,
            ["provider nonce"] = oidc.Get("campus").NonceCookie.SecurePolicy,
        };

        Assert.All(policies, p => Assert.Equal((p.Key, CookieSecurePolicy.Always), (p.Key, p.Value)));
    }

    [Theory]
    [InlineData("GET", "/Account/Login")]
    [InlineData("POST", "/Account/Login")]
    [InlineData("GET", "/api/v1/clusters/any/quotas")]
    public async Task Plain_http_in_production_is_refused_with_a_reason_not_a_500(string method, string path)
    {
        using var client = portal.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("http://compute.example.org"), AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        using var response = await client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("HTTPS only", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_stays_reachable_over_plain_http_in_production()
    {
        using var client = portal.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("http://localhost"), AllowAutoRedirect = false });
        using var response = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }
}

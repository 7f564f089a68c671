using System.Security.Claims;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;

namespace Meta.ComputeAccess.Web.Tests.Account;

/// <summary>What <c>Authentication:Oidc</c> accepts at start, and what a provider's claims are read as.</summary>
public sealed class IdentityProvidersTests
{
    private static IdentityProviders From(params (string Key, string Value)[] settings) =>
        IdentityProviders.FromConfiguration(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>($"{IdentityProviders.Section}:{s.Key}", s.Value)))
            .Build());

    [Fact]
    public void No_section_means_no_provider()
    {
        Assert.Empty(From().All);
    }

    [Theory]
    [InlineData("Cilogon", "https://cilogon.org", "client", null, "the name must be")]
    [InlineData("cilogon", "http://cilogon.org", "client", null, "Authority must be an https URL")]
    [InlineData("cilogon", "cilogon.org", "client", null, "Authority must be an https URL")]
    [InlineData("cilogon", "https://cilogon.org", "", null, "ClientId is missing")]
    [InlineData("local", "ftp://127.0.0.1", "client", "false", "Authority must be an https URL")]
    public void A_provider_that_cannot_work_stops_the_start_with_the_reason(string name, string authority, string clientId, string? requireHttps, string reason)
    {
        var settings = new List<(string, string)> { ($"{name}:Authority", authority), ($"{name}:ClientId", clientId) };
        if (requireHttps is not null)
        {
            settings.Add(($"{name}:RequireHttpsMetadata", requireHttps));
        }
        var refused = Assert.Throws<InvalidOperationException>(() => From([.. settings]));
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
        Assert.Contains($"{IdentityProviders.Section}:{name}", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plain_http_is_accepted_only_when_https_metadata_is_switched_off()
    {
        var providers = From(("local:Authority", "http://127.0.0.1:5090"), ("local:ClientId", "portal"), ("local:RequireHttpsMetadata", "false"));
        var local = Assert.Single(providers.All);
        Assert.Equal("local", local.DisplayName);
    }

    [Fact]
    public void Only_the_claims_the_map_names_are_read_and_an_empty_entry_switches_a_default_off()
    {
        var providers = From(("orcid:Authority", "https://orcid.org"), ("orcid:ClientId", "APP-1"), ("orcid:DisplayName", "ORCID"),
            ("orcid:ClaimMap:Orcid", "sub"), ("orcid:ClaimMap:Email", ""));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim("sub", "0000-0002-1825-0097"),
            new Claim("email", "someone@example.org"),
            new Claim("email_verified", "true"),
            new Claim("given_name", "Josiah"),
            new Claim("family_name", "Carberry"),
            new Claim("idp_name", "Not vouched for by this provider"),
        ], "test"));
        var who = providers.Read(new ExternalLoginInfo(principal, "orcid", "0000-0002-1825-0097", "ORCID"));
        Assert.Equal("0000-0002-1825-0097", who.OrcidId);
        Assert.Equal("Josiah Carberry", who.FullName);
        Assert.Null(who.Email);
        Assert.Null(who.VerifiedEmail);
        Assert.Null(who.Institution);
    }

    [Theory]
    [InlineData("amr", "mfa", true)]
    [InlineData("amr", "hwk", true)]
    [InlineData("amr", "pwd", false)]
    [InlineData("acr", "https://refeds.org/profile/mfa", true)]
    [InlineData("acr", "https://refeds.org/profile/sfa", false)]
    public void A_second_factor_counts_only_from_amr_methods_or_the_accepted_acr(string claim, string value, bool vouches)
    {
        var providers = From(("demo:Authority", "https://idp.example.edu"), ("demo:ClientId", "portal"), ("demo:MfaAcrValues", "https://refeds.org/profile/mfa"));
        var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "x"), new Claim(claim, value)], "test"));
        Assert.Equal(vouches, providers.VouchesForSecondFactor(new ExternalLoginInfo(principal, "demo", "x", "demo")));
    }
}

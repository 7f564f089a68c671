using System.Security.Claims;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Identity;
using Microsoft.AspNetCore.Identity;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>
/// One OpenID Connect provider, from <c>Authentication:Oidc:{name}</c> (docs/operations.md, "Signing in with an
/// institution or ORCID"). The name is the authentication scheme, the callback path (<c>/signin-{name}</c>) and what
/// each linked sign-in stores: renaming a provider unlinks everyone who used it.
/// </summary>
public sealed class IdentityProviderOptions
{
    /// <summary>The issuer; its <c>/.well-known/openid-configuration</c> says everything else.</summary>
    public string Authority { get; set; } = "";

    public string ClientId { get; set; } = "";

    public string? ClientSecret { get; set; }

    /// <summary>Space-separated; <c>openid</c> is always asked for.</summary>
    public string Scopes { get; set; } = "openid email profile";

    /// <summary>What the button says after "Sign in with".</summary>
    public string DisplayName { get; set; } = "";

    /// <summary>
    /// Which claim carries which attribute: <c>Email</c>, <c>EmailVerified</c>, <c>Name</c>, <c>GivenName</c>,
    /// <c>FamilyName</c> (standard claims by default), and only where the provider vouches for them <c>Institution</c>,
    /// <c>Affiliation</c> and <c>Orcid</c>.
    /// </summary>
    public Dictionary<string, string> ClaimMap { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Space-separated <c>acr</c> values that mean the provider checked a second factor (REFEDS MFA, for example).</summary>
    public string MfaAcrValues { get; set; } = "";

    /// <summary>Space-separated <c>acr_values</c> sent with every sign-in request; empty sends none.</summary>
    public string RequestAcrValues { get; set; } = "";

    /// <summary>False only for a provider on loopback over plain HTTP (the local demo and the tests).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Also read the userinfo endpoint (CILogon sends its institution claims there).</summary>
    public bool UseUserInfo { get; set; } = true;
}

/// <summary>A configured provider: its scheme name, what people see, and its options.</summary>
public sealed record IdentityProvider(string Name, string DisplayName, IdentityProviderOptions Options)
{
    private static readonly Dictionary<string, string> DefaultClaims = new(StringComparer.OrdinalIgnoreCase)
    {
        [IdentityProviders.Email] = "email",
        [IdentityProviders.EmailVerified] = "email_verified",
        [IdentityProviders.Name] = "name",
        [IdentityProviders.GivenName] = "given_name",
        [IdentityProviders.FamilyName] = "family_name",
    };

    /// <summary>The claim that carries <paramref name="attribute"/> for this provider, or null when it sends none.</summary>
    public string? ClaimFor(string attribute) =>
        Options.ClaimMap.TryGetValue(attribute, out var claim) ? (string.IsNullOrWhiteSpace(claim) ? null : claim.Trim()) : DefaultClaims.GetValueOrDefault(attribute);

    public IReadOnlyList<string> MfaAcrValues => Split(Options.MfaAcrValues);

    public static IReadOnlyList<string> Split(string? values) =>
        (values ?? "").Split([' ', ',', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// The identity providers this portal offers (none: the sign-in page is password only), and what a provider's
/// sign-in says about the person: <see cref="Read"/> for the account, <see cref="VouchesForSecondFactor"/> for staff.
/// </summary>
public sealed partial class IdentityProviders(IReadOnlyList<IdentityProvider> all)
{
    public const string Section = "Authentication:Oidc";
    public const string Email = "Email";
    public const string EmailVerified = "EmailVerified";
    public const string Name = "Name";
    public const string GivenName = "GivenName";
    public const string FamilyName = "FamilyName";
    public const string Institution = "Institution";
    public const string Affiliation = "Affiliation";
    public const string Orcid = "Orcid";

    /// <summary>RFC 8176 methods that are a second factor when the provider names them in <c>amr</c>.</summary>
    private static readonly string[] SecondFactorMethods = ["mfa", "otp", "hwk"];

    public IReadOnlyList<IdentityProvider> All { get; } = all;

    public IdentityProvider? Find(string? name) => All.FirstOrDefault(p => p.Name == name);

    /// <summary>Reads and checks <c>Authentication:Oidc</c>; a provider that cannot work stops the portal at start, with the reason.</summary>
    public static IdentityProviders FromConfiguration(IConfiguration configuration)
    {
        var providers = new List<IdentityProvider>();
        foreach (var section in configuration.GetSection(Section).GetChildren())
        {
            var options = new IdentityProviderOptions();
            section.Bind(options);
            var name = section.Key;
            string Problem(string what) => $"{Section}:{name}: {what} (docs/operations.md, \"Signing in with an institution or ORCID\").";
            if (!ProviderName().IsMatch(name))
            {
                throw new InvalidOperationException(Problem("the name must be 1 to 32 lower-case letters, digits or dashes"));
            }
            if (!Uri.TryCreate(options.Authority, UriKind.Absolute, out var authority)
                || authority.Scheme != Uri.UriSchemeHttps && !(authority.Scheme == Uri.UriSchemeHttp && !options.RequireHttpsMetadata))
            {
                throw new InvalidOperationException(Problem("Authority must be an https URL (plain http only with RequireHttpsMetadata=false)"));
            }
            if (string.IsNullOrWhiteSpace(options.ClientId))
            {
                throw new InvalidOperationException(Problem("ClientId is missing"));
            }
            providers.Add(new IdentityProvider(name, string.IsNullOrWhiteSpace(options.DisplayName) ? name : options.DisplayName.Trim(), options));
        }
        return new IdentityProviders(providers);
    }

    /// <summary>
    /// What the provider of <paramref name="login"/> says about the person, cleaned (trimmed, control characters
    /// dropped, cut to what the account keeps): only what its claim map names is taken.
    /// </summary>
    public ProviderIdentity Read(ExternalLoginInfo login)
    {
        var provider = Find(login.LoginProvider) ?? throw new InvalidOperationException($"Unknown provider {login.LoginProvider}.");
        var claims = login.Principal;
        string? One(string attribute, int max) =>
            provider.ClaimFor(attribute) is { } type && claims.FindFirst(type)?.Value is { } value ? Clean(value, max) : null;
        var name = One(Name, 200);
        if (name is null && (One(GivenName, 100), One(FamilyName, 100)) is var (given, family) && (given ?? family) is not null)
        {
            name = Clean($"{given} {family}", 200);
        }
        var affiliations = provider.ClaimFor(Affiliation) is { } affiliationClaim
            ? claims.FindAll(affiliationClaim)
                .SelectMany(c => c.Value.Split([';', ' ', ','], StringSplitOptions.RemoveEmptyEntries))
                .Select(a => Clean(a, 200)).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase).Take(20).ToList()
            : [];
        var orcid = Identity.Orcid.TryNormalize(One(Orcid, 100), out var canonical) ? canonical : null;
        var email = One(Email, 254);
        return new ProviderIdentity(provider.Name, login.ProviderKey, provider.DisplayName, email,
            email is not null && string.Equals(One(EmailVerified, 10), "true", StringComparison.OrdinalIgnoreCase),
            name, One(Institution, 200), affiliations, orcid);
    }

    /// <summary>
    /// The provider says this sign-in used a second factor: its identity token's <c>amr</c> names <c>mfa</c>, <c>otp</c>
    /// or <c>hwk</c>, or its <c>acr</c> is one the provider's configuration accepts (<see cref="IdentityProviderOptions.MfaAcrValues"/>).
    /// </summary>
    public bool VouchesForSecondFactor(ExternalLoginInfo login)
    {
        var provider = Find(login.LoginProvider);
        if (provider is null)
        {
            return false;
        }
        var claims = login.Principal;
        return claims.FindAll("amr").Any(c => SecondFactorMethods.Contains(c.Value, StringComparer.Ordinal))
            || claims.FindAll("acr").Any(c => provider.MfaAcrValues.Contains(c.Value, StringComparer.Ordinal));
    }

    private static string? Clean(string value, int max)
    {
        var clean = PlainText.WithoutControl(value).Trim();
        return clean.Length == 0 ? null : clean.Length <= max ? clean : clean[..max].Trim();
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,31}$")]
    private static partial Regex ProviderName();
}

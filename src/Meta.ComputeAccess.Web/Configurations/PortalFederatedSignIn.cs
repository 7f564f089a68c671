using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Meta.ComputeAccess.Web.Configurations;

/// <summary>
/// Sign-in through institutions and ORCID: one OpenID Connect scheme per configured provider (authorization code with
/// PKCE, the answer in the query string), signing into Identity's external cookie; the pages under /Account then
/// sign the person in, create their account or link it (docs/operations.md, "Signing in with an institution or ORCID").
/// </summary>
internal static partial class PortalFederatedSignIn
{
    /// <summary>How long a person has between the provider's answer and the end of the sign-in (the first-sign-in form, a mailed link).</summary>
    public static readonly TimeSpan PendingSignIn = TimeSpan.FromMinutes(30);

    public static void AddPortalFederatedSignIn(this WebApplicationBuilder builder)
    {
        var providers = IdentityProviders.FromConfiguration(builder.Configuration);
        builder.Services.AddSingleton(providers);
        var authentication = builder.Services.AddAuthentication();
        foreach (var provider in providers.All)
        {
            authentication.AddOpenIdConnect(provider.Name, provider.DisplayName, options => Configure(options, provider, builder.Environment));
        }
        builder.Services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ExternalScheme).Configure<TimeProvider>((options, clock) =>
        {
            options.TimeProvider = clock;
            options.Cookie.Name = "mca.external";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.Cookie.SecurePolicy = builder.Environment.SecurePolicy();
            options.ExpireTimeSpan = PendingSignIn;
            options.SlidingExpiration = false;
        });
    }

    private static void Configure(OpenIdConnectOptions options, IdentityProvider provider, IHostEnvironment environment)
    {
        var settings = provider.Options;
        options.SignInScheme = IdentityConstants.ExternalScheme;
        options.Authority = settings.Authority;
        options.RequireHttpsMetadata = settings.RequireHttpsMetadata;
        options.ClientId = settings.ClientId;
        options.ClientSecret = string.IsNullOrEmpty(settings.ClientSecret) ? null : settings.ClientSecret;
        options.ResponseType = OpenIdConnectResponseType.Code;
        // A top-level GET back from the provider carries the Lax correlation cookies; a cross-site form post would not.
        options.ResponseMode = OpenIdConnectResponseMode.Query;
        options.UsePkce = true;
        options.CallbackPath = "/signin-" + provider.Name;
        // Tokens are read once and dropped: the portal calls no provider API for the person.
        options.SaveTokens = false;
        options.MapInboundClaims = false;
        options.GetClaimsFromUserInfoEndpoint = settings.UseUserInfo;
        options.TokenValidationParameters.NameClaimType = "name";
        options.Scope.Clear();
        foreach (var scope in IdentityProvider.Split(settings.Scopes).Prepend("openid").Distinct(StringComparer.Ordinal))
        {
            options.Scope.Add(scope);
        }
        // The handler drops acr by default; it is what tells whether the provider checked a second factor.
        options.ClaimActions.Remove("acr");
        foreach (var attribute in new[] { IdentityProviders.Email, IdentityProviders.EmailVerified, IdentityProviders.Name, IdentityProviders.GivenName,
                     IdentityProviders.FamilyName, IdentityProviders.Institution, IdentityProviders.Orcid })
        {
            if (provider.ClaimFor(attribute) is { } claim)
            {
                options.ClaimActions.MapUniqueJsonKey(claim, claim);
            }
        }
        if (provider.ClaimFor(IdentityProviders.Affiliation) is { } affiliation)
        {
            options.ClaimActions.MapJsonKey(affiliation, affiliation);
        }
        foreach (var cookie in new[] { options.CorrelationCookie, options.NonceCookie })
        {
            cookie.SameSite = SameSiteMode.Lax;
            cookie.SecurePolicy = environment.SecurePolicy();
        }
        options.CorrelationCookie.Name = "mca.oidc-correlation.";
        options.NonceCookie.Name = "mca.oidc-nonce.";
        var acrValues = string.Join(' ', IdentityProvider.Split(settings.RequestAcrValues));
        options.Events = new OpenIdConnectEvents
        {
            OnRedirectToIdentityProvider = context =>
            {
                if (acrValues.Length > 0)
                {
                    context.ProtocolMessage.AcrValues = acrValues;
                }
                return Task.CompletedTask;
            },
            // The person said no at the provider (error=access_denied).
            OnAccessDenied = context => Fail(context.HttpContext, context, provider.Name, ExternalSignInFailure.Cancelled, null),
            // Everything else the handler refuses: a token that fails validation (issuer, audience, expiry, signature,
            // nonce), a replayed or foreign callback (state, correlation), an error from the provider, a provider down.
            OnRemoteFailure = context => Fail(context.HttpContext, context, provider.Name, context.Failure switch
            {
                HttpRequestException or TaskCanceledException or OperationCanceledException => ExternalSignInFailure.Unreachable,
                { } failure when failure.Data.Contains("error") => ExternalSignInFailure.ProviderError,
                _ => ExternalSignInFailure.Refused,
            }, context.Failure),
        };
    }

    private static Task Fail(HttpContext http, HandleRequestContext<RemoteAuthenticationOptions> context, string provider, ExternalSignInFailure failure, Exception? exception)
    {
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PortalFederatedSignIn));
        // The exception's type says what failed; its message may quote the token, so it is not logged.
        LogRefused(logger, failure == ExternalSignInFailure.Cancelled ? LogLevel.Information : LogLevel.Warning, provider, failure, exception?.GetType().Name ?? "none");
        http.Response.Redirect($"/Account/ExternalLogin?handler=Failed&provider={Uri.EscapeDataString(provider)}&reason={failure}");
        context.HandleResponse();
        return Task.CompletedTask;
    }

    /// <summary>The one log line of a sign-in through a provider that did not complete: ids and kinds only, never a token.</summary>
    [LoggerMessage(EventId = 4100, Message = "Sign-in through {Provider} did not complete: {Failure} ({ExceptionType})")]
    internal static partial void LogRefused(ILogger logger, LogLevel level, string provider, ExternalSignInFailure failure, string exceptionType);
}

/// <summary>Why a sign-in through a provider did not end in the portal; the failure page explains each.</summary>
public enum ExternalSignInFailure
{
    /// <summary>The person cancelled at the provider.</summary>
    Cancelled,

    /// <summary>The provider's answer failed validation: forged, altered, expired, replayed, or meant for someone else.</summary>
    Refused,

    /// <summary>The provider answered with an error of its own.</summary>
    ProviderError,

    /// <summary>The portal could not reach the provider.</summary>
    Unreachable,

    /// <summary>The sign-in took too long or was finished in another browser: its cookie is gone.</summary>
    Expired,

    /// <summary>No such provider is configured.</summary>
    UnknownProvider,
}

using System.Collections.Immutable;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Meta.ComputeAccess.OidcProvider;

/// <summary>
/// The provider: OpenIddict's server in degraded mode (no database: codes and tokens are self-contained and
/// encrypted, the keys live as long as the process), authorization code flow with PKCE, a login page listing
/// <see cref="ProviderPeople"/>, and a userinfo endpoint. Clients are <c>Provider:Clients:{id}={secret}</c>; redirect
/// URIs must be on loopback. With <c>Provider:AllowTampering=true</c> (tests only) the login page can ask for a
/// deliberately broken identity token (<see cref="TokenTampering"/>).
/// </summary>
public static class ProviderHost
{
    public const string LoginScheme = "provider-login";

    /// <summary>A private claim carried in the authorization code, never in a token: how to break the identity token.</summary>
    public const string TamperClaim = "mca_tamper";

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var clients = builder.Configuration.GetSection("Provider:Clients").Get<Dictionary<string, string>>() ?? [];
        if (clients.Count == 0)
        {
            throw new InvalidOperationException("No client configured: pass Provider:Clients:<client id>=<secret>.");
        }
        var allowTampering = builder.Configuration.GetValue("Provider:AllowTampering", false);
        var nonces = new NonceHistory();

        builder.Services.AddAuthentication(LoginScheme)
            .AddCookie(LoginScheme, o =>
            {
                o.Cookie.Name = "oidc-provider.login";
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.LoginPath = "/login";
            });
        builder.Services.AddOpenIddict()
            .AddServer(options =>
            {
                options.SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token")
                    .SetUserInfoEndpointUris("connect/userinfo");
                options.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
                options.RegisterScopes(Scopes.OpenId, Scopes.Email, Scopes.Profile, "org.cilogon.userinfo");
                options.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
                options.DisableAccessTokenEncryption();
                options.EnableDegradedMode();
                options.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough()
                    .DisableTransportSecurityRequirement();

                // Degraded mode has no application store: the clients and their redirect URIs are checked here.
                options.AddEventHandler<ValidateAuthorizationRequestContext>(handler => handler.UseInlineHandler(context =>
                {
                    if (context.ClientId is null || !clients.ContainsKey(context.ClientId))
                    {
                        context.Reject(Errors.InvalidClient, "Unknown client.");
                    }
                    else if (!IsLoopback(context.RedirectUri))
                    {
                        context.Reject(Errors.InvalidRequest, "This provider only redirects to loopback addresses.");
                    }
                    else
                    {
                        nonces.Seen(context.Request.Nonce);
                    }
                    return default;
                }));
                options.AddEventHandler<ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
                {
                    if (context.ClientId is null || !clients.TryGetValue(context.ClientId, out var secret) || !SameSecret(secret, context.ClientSecret))
                    {
                        context.Reject(Errors.InvalidClient, "Unknown client or wrong secret.");
                    }
                    return default;
                }));
                // After the identity token is signed and before it is sent: break it as the login asked (tests only).
                options.AddEventHandler<ProcessSignInContext>(handler => handler
                    .UseInlineHandler(context =>
                    {
                        if (allowTampering && context.IdentityToken is { } token && context.Principal?.GetClaim(TamperClaim) is { Length: > 0 } how)
                        {
                            context.IdentityToken = TokenTampering.Apply(token, how, context.Options.SigningCredentials[0]);
                        }
                        return default;
                    })
                    .SetOrder(OpenIddictServerHandlers.GenerateIdentityToken.Descriptor.Order + 500)
                    .SetType(OpenIddictServerHandlerType.Custom));
            });

        var app = builder.Build();
        app.UseAuthentication();
        app.MapGet("/", () => Results.Redirect("/login"));
        app.MapGet("/login", (HttpContext http, string? returnUrl) => Results.Content(LoginPage.Render(returnUrl, allowTampering), "text/html; charset=utf-8"));
        app.MapPost("/login", async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync();
            var returnUrl = form["returnUrl"].ToString();
            if (!returnUrl.StartsWith("/connect/authorize?", StringComparison.Ordinal))
            {
                return Results.BadRequest("Start from the portal's sign-in button.");
            }
            if (form.ContainsKey("cancel"))
            {
                return Results.Redirect(returnUrl + "&mca_cancel=1");
            }
            if (ProviderPeople.Find(form["username"]) is not { } person)
            {
                return Results.BadRequest("No such person.");
            }
            var identity = new ClaimsIdentity(LoginScheme);
            identity.AddClaim(new Claim(Claims.Subject, person.Subject));
            if (allowTampering && form["tamper"].ToString() is { Length: > 0 } tamper)
            {
                identity.AddClaim(new Claim(TamperClaim, tamper));
            }
            await http.SignInAsync(LoginScheme, new ClaimsPrincipal(identity));
            return Results.Redirect(returnUrl);
        });
        app.MapMethods("/connect/authorize", ["GET", "POST"], async (HttpContext http) =>
        {
            var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
            if (request["mca_cancel"] is not null)
            {
                // The person said no: the client gets error=access_denied.
                return Results.Forbid(authenticationSchemes: [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
            }
            var login = await http.AuthenticateAsync(LoginScheme);
            if (ProviderPeople.Find(login.Principal?.FindFirstValue(Claims.Subject)) is not { } person)
            {
                return Results.Redirect("/login?returnUrl=" + Uri.EscapeDataString(http.Request.Path + http.Request.QueryString));
            }
            // Every authorization asks who you are again: one login answers one request, so a demo can switch people.
            await http.SignOutAsync(LoginScheme);
            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, person.Subject)
                .SetClaim(Claims.Name, person.Name)
                .SetClaims(Claims.AuthenticationMethodReference, [.. person.Amr]);
            if (person.Acr is not null)
            {
                identity.SetClaim(Claims.AuthenticationContextReference, person.Acr);
            }
            if (person.Email is not null && request.HasScope(Scopes.Email))
            {
                identity.SetClaim(Claims.Email, person.Email);
                identity.AddClaim(new Claim(Claims.EmailVerified, person.EmailVerified ? "true" : "false", ClaimValueTypes.Boolean));
            }
            if (login.Principal!.FindFirstValue(TamperClaim) is { } tamper)
            {
                // A replayed nonce is one an earlier authorization request carried.
                identity.SetClaim(TamperClaim, tamper == TokenTampering.ReplayedNonce ? $"{tamper}:{nonces.Before(request.Nonce)}" : tamper);
            }
            identity.SetScopes(request.GetScopes());
            // The identity token carries who and how; institution and affiliations come from userinfo, as CILogon sends them.
            identity.SetDestinations(claim => claim.Type switch
            {
                Claims.Subject or Claims.Name or Claims.Email or Claims.EmailVerified or Claims.AuthenticationMethodReference or Claims.AuthenticationContextReference
                    => [Destinations.IdentityToken, Destinations.AccessToken],
                _ => [],
            });
            return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        app.MapPost("/connect/token", async (HttpContext http) =>
        {
            // The code was checked (client, redirect URI, PKCE verifier, expiry); its principal is issued again as tokens.
            var code = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            return code.Principal is { } principal
                ? Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)
                : Results.Forbid(authenticationSchemes: [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        });
        app.MapMethods("/connect/userinfo", ["GET", "POST"], async (HttpContext http) =>
        {
            var token = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            if (ProviderPeople.Find(token.Principal?.GetClaim(Claims.Subject)) is not { } person)
            {
                return Results.Challenge(authenticationSchemes: [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
            }
            var scopes = token.Principal!.GetScopes();
            var answer = new Dictionary<string, object> { [Claims.Subject] = person.Subject };
            if (scopes.Contains(Scopes.Profile))
            {
                answer[Claims.Name] = person.Name;
                AddIfAny(answer, Claims.GivenName, person.GivenName);
                AddIfAny(answer, Claims.FamilyName, person.FamilyName);
            }
            if (scopes.Contains(Scopes.Email) && person.Email is not null)
            {
                answer[Claims.Email] = person.Email;
                answer[Claims.EmailVerified] = person.EmailVerified;
            }
            if (scopes.Contains("org.cilogon.userinfo"))
            {
                AddIfAny(answer, "idp_name", person.Institution);
                if (person.Affiliations.Count > 0)
                {
                    answer["eduperson_scoped_affiliation"] = person.Affiliations;
                }
            }
            return Results.Json(answer);
        });
        return app;
    }

    private static void AddIfAny(Dictionary<string, object> answer, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            answer[name] = value;
        }
    }

    private static bool IsLoopback(string? redirectUri) =>
        Uri.TryCreate(redirectUri, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback;

    private static bool SameSecret(string expected, string? given) =>
        given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(given));

    /// <summary>The nonces of the authorization requests seen, so a test can have an earlier one replayed.</summary>
    private sealed class NonceHistory
    {
        private readonly Lock gate = new();
        private readonly List<string> seen = [];

        public void Seen(string? nonce)
        {
            lock (gate)
            {
                if (nonce is not null)
                {
                    seen.Add(nonce);
                }
            }
        }

        /// <summary>The latest nonce seen other than <paramref name="current"/>, or a made-up one.</summary>
        public string Before(string? current)
        {
            lock (gate)
            {
                return seen.LastOrDefault(n => n != current) ?? Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            }
        }
    }
}

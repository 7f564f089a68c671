using System.Globalization;
using System.Security.Claims;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Terms;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>
/// How a signed-in session ends, on the Identity application cookie. Idle: the cookie's sliding expiry (longer with
/// "Keep me signed in"). Absolute: the sign-in time is kept in the cookie's properties and survives renewals,
/// refreshes and security-stamp revalidation; past the limit the session is rejected. On the server: every sign-in
/// starts a <see cref="UserSession"/> whose id the cookie carries, every request checks it (one primary-key lookup, which
/// also reads the terms of use the user has yet to accept, for <see cref="TermsGate"/>, and the unread count for the bell),
/// and every sign-out ends it, so a copied cookie stops working the moment its session is signed out or ended.
/// </summary>
public static class SessionLimits
{
    public const string SignedInAtItem = ".mca.signed-in-at";

    public const string SessionItem = ".mca.session";

    private const string CheckItem = ".mca.signed-in-check";

    public static void Apply(CookieAuthenticationOptions options, AccountSecurityOptions security, TimeProvider clock)
    {
        options.TimeProvider = clock;
        options.ExpireTimeSpan = security.IdleTimeout;
        options.SlidingExpiration = true;

        var signingIn = options.Events.OnSigningIn;
        options.Events.OnSigningIn = async context =>
        {
            var now = clock.GetUtcNow();
            var properties = context.Properties;
            // A refresh (profile saved, 2FA turned on) keeps the original sign-in time and session; a new sign-in starts both.
            if (SignedInAt(properties) is null || SessionId(properties) is null)
            {
                properties.Items[SignedInAtItem] = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                var http = context.HttpContext;
                var session = await Sessions(http).StartAsync(
                    UserId(context.Principal), properties.IsPersistent, http.Connection.RemoteIpAddress, http.Request.Headers.UserAgent.ToString(), http.RequestAborted);
                properties.Items[SessionItem] = session.ToString("N");
                http.Items[SessionItem] = session;
            }
            properties.IssuedUtc = now;
            properties.ExpiresUtc = now + (properties.IsPersistent ? security.RememberMeIdleTimeout : security.IdleTimeout);
            await signingIn(context);
        };

        var validate = options.Events.OnValidatePrincipal;
        options.Events.OnValidatePrincipal = async context =>
        {
            var http = context.HttpContext;
            // A cookie without a sign-in time or a session was issued before they existed: it ends like an expired one.
            if (SignedInAt(context.Properties) is not { } signedInAt || SessionId(context.Properties) is not { } session)
            {
                await RejectAsync(context);
                return;
            }
            if (clock.GetUtcNow() >= signedInAt + security.AbsoluteSessionLimit)
            {
                await Sessions(http).EndAsync(session, http.RequestAborted);
                await RejectAsync(context);
                return;
            }
            // The session, the terms gate's question and the bell's count in one query (TermsGate and the bell read the answer from the request).
            var check = await http.RequestServices.GetRequiredService<PortalTerms>().CheckSignedInAsync(session, UserId(context.Principal), http.RequestAborted);
            if (!check.SessionActive)
            {
                await RejectAsync(context);
                return;
            }
            http.Items[CheckItem] = check;
            // Known from here on, for signing out (below) and for "this browser" on the security page.
            http.Items[SessionItem] = session;
            // Identity's security-stamp check: ends sessions of a changed stamp and reloads roles and claims.
            await validate(context);
        };

        var signingOut = options.Events.OnSigningOut;
        options.Events.OnSigningOut = async context =>
        {
            // Every sign-out of a checked session ends it on the server: the sign-out page, "sign out everywhere",
            // and a rejection by the security-stamp check.
            if (CurrentSession(context.HttpContext) is { } session)
            {
                await Sessions(context.HttpContext).EndAsync(session, context.HttpContext.RequestAborted);
            }
            await signingOut(context);
        };
    }

    /// <summary>The server-side session of this request's sign-in cookie, once the cookie has been checked; null for visitors.</summary>
    public static Guid? CurrentSession(HttpContext http) => http.Items.TryGetValue(SessionItem, out var value) && value is Guid id ? id : null;

    /// <summary>What this request's session check found (terms of use to accept, unread notifications); null when no sign-in cookie was checked.</summary>
    public static PortalTerms.SignedInCheck? SignedInCheck(HttpContext http) =>
        http.Items.TryGetValue(CheckItem, out var value) ? value as PortalTerms.SignedInCheck : null;

    public static DateTimeOffset? SignedInAt(AuthenticationProperties properties) =>
        properties.Items.TryGetValue(SignedInAtItem, out var value)
        && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    private static Guid? SessionId(AuthenticationProperties properties) =>
        properties.Items.TryGetValue(SessionItem, out var value) && Guid.TryParseExact(value, "N", out var id) ? id : null;

    private static Guid UserId(ClaimsPrincipal? principal) =>
        Guid.TryParse(principal?.FindFirstValue(ClaimTypes.NameIdentifier), out var id) ? id : Guid.Empty;

    private static UserSessions Sessions(HttpContext http) => http.RequestServices.GetRequiredService<UserSessions>();

    private static async Task RejectAsync(CookieValidatePrincipalContext context)
    {
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(context.Scheme.Name);
    }
}

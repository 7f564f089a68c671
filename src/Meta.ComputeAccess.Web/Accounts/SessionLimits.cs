using System.Globalization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>
/// Idle and absolute limits of a signed-in session, on the Identity application cookie. Idle: the cookie's sliding
/// expiry (longer with "Keep me signed in"). Absolute: the sign-in time is kept in the cookie's properties and
/// survives renewals, refreshes and security-stamp revalidation; past the limit the session is rejected.
/// </summary>
public static class SessionLimits
{
    public const string SignedInAtItem = ".mca.signed-in-at";

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
            // A refresh (profile saved, 2FA turned on) keeps the original sign-in time; a new sign-in sets it.
            if (SignedInAt(properties) is null)
            {
                properties.Items[SignedInAtItem] = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            }
            properties.IssuedUtc = now;
            properties.ExpiresUtc = now + (properties.IsPersistent ? security.RememberMeIdleTimeout : security.IdleTimeout);
            await signingIn(context);
        };

        var validate = options.Events.OnValidatePrincipal;
        options.Events.OnValidatePrincipal = async context =>
        {
            // A cookie without a sign-in time was issued before the limit existed: it ends like an expired one.
            if (SignedInAt(context.Properties) is not { } signedInAt || clock.GetUtcNow() >= signedInAt + security.AbsoluteSessionLimit)
            {
                context.RejectPrincipal();
                await context.HttpContext.SignOutAsync(context.Scheme.Name);
                return;
            }
            // Identity's security-stamp check: ends sessions of a changed stamp and reloads roles and claims.
            await validate(context);
        };
    }

    public static DateTimeOffset? SignedInAt(AuthenticationProperties properties) =>
        properties.Items.TryGetValue(SignedInAtItem, out var value)
        && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
}

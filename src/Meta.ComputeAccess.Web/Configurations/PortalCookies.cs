namespace Meta.ComputeAccess.Web.Configurations;

/// <summary>The rule every portal cookie follows (sign-in, two-factor, flash messages, antiforgery).</summary>
internal static class PortalCookies
{
    /// <summary>
    /// Secure outside development: production cookies are never sent over plain HTTP; Development and the tests
    /// serve http://127.0.0.1, where a Secure cookie would never come back.
    /// </summary>
    public static CookieSecurePolicy SecurePolicy(this IHostEnvironment environment) =>
        environment.IsDevelopment() || environment.IsEnvironment("Testing") ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
}

using System.Globalization;
using System.Security.Cryptography;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Microsoft.AspNetCore.DataProtection;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>
/// security.sign-in: after a password sign-in from a browser that has not signed in to this account before (no
/// device cookie for this user), the user is told. The first sign-in of an account is expected and not reported.
/// </summary>
public sealed class SignInAlerts(IDataProtectionProvider dataProtection, Notifier notifier, TimeProvider clock)
{
    private const string CookieName = "mca.device";

    private readonly IDataProtector protector = dataProtection.CreateProtector("Meta.ComputeAccess.SignInAlerts.Device.v1");

    /// <summary>Adds the alert to the unit of work when due (the caller's save commits it) and remembers this browser.</summary>
    public async Task OnSignedInAsync(HttpContext http, PortalUser user)
    {
        var firstSignIn = user.LastSignInAt is null;
        if (!firstSignIn && !IsKnownDevice(http.Request, user.Id) && user.Email is { } email)
        {
            var when = clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
            await notifier.NotifyAsync(new NotificationRecipient(user.Id, email, user.FullName), NotificationKinds.SecuritySignIn,
                "your account", "/Account/Profile", new Dictionary<string, string> { ["when"] = when });
        }
        http.Response.Cookies.Append(CookieName, protector.Protect(user.Id.ToString("N")), new CookieOptions
        {
            HttpOnly = true,
            Secure = http.Request.IsHttps,
            SameSite = SameSiteMode.Lax,
            IsEssential = true,
            Expires = clock.GetUtcNow().AddYears(1),
        });
    }

    private bool IsKnownDevice(HttpRequest request, Guid userId)
    {
        if (request.Cookies[CookieName] is not { Length: > 0 and < 1000 } value)
        {
            return false;
        }
        try
        {
            return protector.Unprotect(value) == userId.ToString("N");
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}

using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Microsoft.AspNetCore.Identity;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>
/// Writes one <see cref="SignInEvent"/> per sign-in attempt on an existing account (the list at /Account/Security),
/// and on success does what every way of signing in shares: the new-browser alert and <c>LastSignInAt</c>.
/// </summary>
public sealed class SignInHistory(PortalDbContext db, UserManager<PortalUser> users, SignInAlerts alerts, TimeProvider clock)
{
    /// <summary>Records a completed sign-in (password, authenticator code or recovery code) and saves it with the alert.</summary>
    public async Task SignedInAsync(HttpContext http, PortalUser user, SignInOutcome outcome = SignInOutcome.Succeeded)
    {
        // Before LastSignInAt changes: the first sign-in of an account raises no alert. UpdateAsync saves all of it.
        await alerts.OnSignedInAsync(http, user);
        Add(http, user.Id, outcome);
        user.LastSignInAt = clock.GetUtcNow();
        await users.UpdateAsync(user);
    }

    /// <summary>Records a refused attempt for the account.</summary>
    public async Task FailedAsync(HttpContext http, Guid userId, SignInOutcome outcome)
    {
        Add(http, userId, outcome);
        await db.SaveChangesAsync(http.RequestAborted);
    }

    private void Add(HttpContext http, Guid userId, SignInOutcome outcome) =>
        db.SignInEvents.Add(SignInEvent.Create(userId, clock.GetUtcNow(), outcome, http.Connection.RemoteIpAddress, http.Request.Headers.UserAgent.ToString()));
}

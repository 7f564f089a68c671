using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>
/// The signed-in user's open sessions (each can be ended), own recent sign-in attempts, two-factor state, and
/// "sign out everywhere".
/// </summary>
[Authorize]
public sealed class SecurityModel(
    PortalDbContext db, UserManager<PortalUser> users, SignInManager<PortalUser> signIn, UserSessions sessions,
    IOptions<AccountSecurityOptions> security, TimeProvider clock) : PageModel
{
    public const int Shown = 50;

    public sealed record Attempt(DateTimeOffset At, SignInOutcome Outcome, string? ClientAddress, string UserAgent);

    /// <summary>An open session; <paramref name="Current"/> is the one this page is shown in.</summary>
    public sealed record Session(Guid Id, DateTimeOffset StartedAt, DateTimeOffset LastSeenAt, string? ClientAddress, string UserAgent, bool Current);

    public IReadOnlyList<Attempt> Attempts { get; private set; } = [];

    public IReadOnlyList<Session> Sessions { get; private set; } = [];

    public bool TwoFactorEnabled { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        var userId = User.GetUserId();
        TwoFactorEnabled = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => u.TwoFactorEnabled).SingleOrDefaultAsync(cancellationToken);
        var rows = await db.SignInEvents.AsNoTracking()
            .Where(e => e.UserId == userId)
            .OrderByDescending(e => e.At).ThenByDescending(e => e.Id)
            .Take(Shown)
            .Select(e => new { e.At, e.Outcome, e.ClientAddress, e.UserAgent })
            .ToListAsync(cancellationToken);
        Attempts = [.. rows.Select(r => new Attempt(r.At, r.Outcome, r.ClientAddress?.ToString(), r.UserAgent))];
        var current = SessionLimits.CurrentSession(HttpContext);
        var limits = security.Value;
        var open = await db.UserSessions.AsNoTracking()
            .OpenFor(userId, clock.GetUtcNow(), new SessionTimeouts(limits.IdleTimeout, limits.RememberMeIdleTimeout, limits.AbsoluteSessionLimit))
            .OrderByDescending(s => s.LastSeenAt).ThenByDescending(s => s.StartedAt)
            .Take(Shown)
            .Select(s => new { s.Id, s.StartedAt, s.LastSeenAt, s.ClientAddress, s.UserAgent })
            .ToListAsync(cancellationToken);
        Sessions = [.. open.Select(s => new Session(s.Id, s.StartedAt, s.LastSeenAt, s.ClientAddress?.ToString(), s.UserAgent, s.Id == current))];
        return Page();
    }

    /// <summary>Ends one of the user's other sessions at once: its cookie, wherever it is, stops working with its next request.</summary>
    public async Task<IActionResult> OnPostEndSessionAsync(Guid id, CancellationToken cancellationToken)
    {
        if (id == SessionLimits.CurrentSession(HttpContext) || !await sessions.EndAsync(User.GetUserId(), id, cancellationToken))
        {
            // Not one of this user's open sessions (or this one, which "Sign out" ends): nothing to end here.
            return NotFound();
        }
        TempData.Status("That session is ended: the browser it was in is signed out.");
        return RedirectToPage();
    }

    /// <summary>
    /// Ends every session of this account at once, this one included, and changes the security stamp, which also
    /// forgets every browser remembered for two-factor sign-in.
    /// </summary>
    public async Task<IActionResult> OnPostSignOutEverywhereAsync(CancellationToken cancellationToken)
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return NotFound();
        }
        await sessions.EndAllAsync(user.Id, cancellationToken);
        await users.UpdateSecurityStampAsync(user);
        await signIn.SignOutAsync();
        TempData.Status("You are signed out on every device.");
        return RedirectToPage("Login");
    }

    public static string Describe(SignInOutcome outcome) => outcome switch
    {
        SignInOutcome.Succeeded => "Signed in",
        SignInOutcome.WrongPassword => "Wrong password",
        SignInOutcome.LockedOut => "Refused: account locked",
        SignInOutcome.EmailNotConfirmed => "Refused: email not confirmed",
        SignInOutcome.TwoFactorFailed => "Wrong two-factor code",
        SignInOutcome.RecoveryCodeUsed => "Signed in with a recovery code",
        _ => outcome.ToString(),
    };
}

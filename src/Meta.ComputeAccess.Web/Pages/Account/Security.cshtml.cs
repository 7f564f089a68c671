using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>The signed-in user's own recent sign-in attempts, two-factor state, and "sign out everywhere".</summary>
[Authorize]
public sealed class SecurityModel(PortalDbContext db, UserManager<PortalUser> users, SignInManager<PortalUser> signIn) : PageModel
{
    public const int Shown = 50;

    public sealed record Attempt(DateTimeOffset At, SignInOutcome Outcome, string? ClientAddress, string UserAgent);

    public IReadOnlyList<Attempt> Attempts { get; private set; } = [];

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
        return Page();
    }

    /// <summary>
    /// A new security stamp: every other session of this account (and every remembered browser) ends at its next
    /// validation, within the validation interval; this one ends now.
    /// </summary>
    public async Task<IActionResult> OnPostSignOutEverywhereAsync()
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return NotFound();
        }
        await users.UpdateSecurityStampAsync(user);
        await signIn.SignOutAsync();
        TempData.Status("You are signed out on every device. Other sessions end within 5 minutes.");
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

using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Privacy;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Configurations;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>
/// The person closes their own account (<see cref="AccountClosure"/>): what happens, what holds it (things to hand over
/// first), and the form, which asks for the password again (or, for an account without one, the email address).
/// Posts are rate-limited like sign-in, since a wrong password is a guess.
/// </summary>
[Authorize]
[EnableRateLimiting(PortalRateLimits.Accounts)]
public sealed class CloseModel(PortalDbContext db, AccountClosure closure, SignInManager<PortalUser> signIn) : PageModel
{
    [BindProperty]
    public string Proof { get; set; } = "";

    public bool HasPassword { get; private set; }

    public IReadOnlyList<string> Blockers { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        var userId = User.GetUserId();
        HasPassword = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => u.PasswordHash != null).SingleAsync(cancellationToken);
        Blockers = await closure.BlockersAsync(userId, cancellationToken);
        return Page();
    }

    public Task<IActionResult> OnPostAsync(CancellationToken cancellationToken) =>
        this.RunAsync(async () =>
        {
            var pseudonym = await closure.CloseAsync(User.GetUserId(), Proof, cancellationToken);
            await signIn.SignOutAsync();
            TempData.Status($"Your account is closed. Your personal data is erased; what you did in the program is kept as \u201c{pseudonym}\u201d. You can register again with the same address at any time.");
            return RedirectToPage("/Index");
        }, () => OnGetAsync(cancellationToken));
}

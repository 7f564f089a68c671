using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Configurations;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>The second step of signing in without the authenticator app: one of the recovery codes, each usable once.</summary>
[AllowAnonymous]
[EnableRateLimiting(PortalRateLimits.Accounts)]
public sealed class LoginWithRecoveryCodeModel(SignInManager<PortalUser> signIn, UserManager<PortalUser> users, SignInHistory history, AuditLog audit) : PageModel
{
    [BindProperty]
    public InputModel Input { get; set; } = new();

    public string? ReturnUrl { get; private set; }

    public sealed class InputModel
    {
        [Required(ErrorMessage = "Enter one of your recovery codes.")]
        [StringLength(40, ErrorMessage = "A recovery code looks like ABCDE-FGHIJ.")]
        [Display(Name = "Recovery code")]
        public string RecoveryCode { get; set; } = "";
    }

    public async Task<IActionResult> OnGetAsync(string? returnUrl)
    {
        ReturnUrl = Local(returnUrl);
        return await signIn.GetTwoFactorAuthenticationUserAsync() is null ? RedirectToPage("Login", new { returnUrl = ReturnUrl }) : Page();
    }

    public async Task<IActionResult> OnPostAsync(string? returnUrl)
    {
        ReturnUrl = Local(returnUrl);
        if (await signIn.GetTwoFactorAuthenticationUserAsync() is not { } user)
        {
            return RedirectToPage("Login", new { returnUrl = ReturnUrl });
        }
        if (!ModelState.IsValid)
        {
            return Page();
        }
        var result = await signIn.TwoFactorRecoveryCodeSignInAsync(TwoFactorCodes.NormalizeRecoveryCode(Input.RecoveryCode));
        if (result.Succeeded)
        {
            var left = await users.CountRecoveryCodesAsync(user);
            audit.Record(user.Id, "2fa.recovery-code-used", "user", user.Id.ToString(), $"Signed in with a recovery code ({left} left)");
            await history.SignedInAsync(HttpContext, user, SignInOutcome.RecoveryCodeUsed);
            TempData.Status(left <= 3
                ? $"You signed in with a recovery code; {left} left. Make new ones on the two-factor page."
                : $"You signed in with a recovery code; {left} left.");
            return LocalRedirect(ReturnUrl ?? "/");
        }
        // Identity does not count wrong recovery codes toward lockout; the portal does, as for authenticator codes.
        if (!result.IsLockedOut)
        {
            await users.AccessFailedAsync(user);
        }
        if (result.IsLockedOut || await users.IsLockedOutAsync(user))
        {
            await history.FailedAsync(HttpContext, user.Id, SignInOutcome.LockedOut);
            return RedirectToPage("Lockout");
        }
        await history.FailedAsync(HttpContext, user.Id, SignInOutcome.TwoFactorFailed);
        ModelState.AddModelError($"{nameof(Input)}.{nameof(Input.RecoveryCode)}", "That recovery code is not valid, or it was used before.");
        return Page();
    }

    private string? Local(string? returnUrl) => Url.IsLocalUrl(returnUrl) ? returnUrl : null;
}

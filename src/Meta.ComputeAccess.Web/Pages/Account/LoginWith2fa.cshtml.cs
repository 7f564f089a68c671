using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Configurations;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>The second step of signing in to an account with two-factor on: a code from the authenticator app.</summary>
[AllowAnonymous]
[EnableRateLimiting(PortalRateLimits.Accounts)]
public sealed class LoginWith2faModel(SignInManager<PortalUser> signIn, SignInHistory history) : PageModel
{
    [BindProperty]
    public InputModel Input { get; set; } = new();

    public string? ReturnUrl { get; private set; }

    public bool RememberMe { get; private set; }

    public sealed class InputModel
    {
        [Required(ErrorMessage = "Enter the 6-digit code from your authenticator app.")]
        [StringLength(12, ErrorMessage = "The code has 6 digits.")]
        [Display(Name = "Authenticator code")]
        public string Code { get; set; } = "";

        [Display(Name = "Remember this browser for 14 days")]
        public bool RememberBrowser { get; set; }
    }

    public async Task<IActionResult> OnGetAsync(string? returnUrl, bool rememberMe)
    {
        if (await signIn.GetTwoFactorAuthenticationUserAsync() is null)
        {
            return RedirectToPage("Login", new { returnUrl = Local(returnUrl) });
        }
        ReturnUrl = Local(returnUrl);
        RememberMe = rememberMe;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string? returnUrl, bool rememberMe)
    {
        ReturnUrl = Local(returnUrl);
        RememberMe = rememberMe;
        // The password step is remembered in a short-lived cookie; without it there is nothing to finish.
        if (await signIn.GetTwoFactorAuthenticationUserAsync() is not { } user)
        {
            return RedirectToPage("Login", new { returnUrl = ReturnUrl });
        }
        if (!ModelState.IsValid)
        {
            return Page();
        }
        var code = TwoFactorCodes.Normalize(Input.Code);
        if (!TwoFactorCodes.IsAuthenticatorCode(code))
        {
            ModelState.AddModelError($"{nameof(Input)}.{nameof(Input.Code)}", "The code has 6 digits.");
            return Page();
        }
        var result = await signIn.TwoFactorAuthenticatorSignInAsync(code, rememberMe, Input.RememberBrowser);
        if (result.Succeeded)
        {
            await history.SignedInAsync(HttpContext, user);
            return LocalRedirect(ReturnUrl ?? "/");
        }
        if (result.IsLockedOut)
        {
            await history.FailedAsync(HttpContext, user.Id, SignInOutcome.LockedOut);
            return RedirectToPage("Lockout");
        }
        await history.FailedAsync(HttpContext, user.Id, SignInOutcome.TwoFactorFailed);
        ModelState.AddModelError($"{nameof(Input)}.{nameof(Input.Code)}", "That code is not right. Codes change every 30 seconds: enter the one your app shows now.");
        return Page();
    }

    private string? Local(string? returnUrl) => Url.IsLocalUrl(returnUrl) ? returnUrl : null;
}

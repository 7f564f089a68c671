using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Configurations;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Account;

[AllowAnonymous]
[EnableRateLimiting(PortalRateLimits.Accounts)]
public sealed class LoginModel(PortalSignInManager signIn, SignInHistory history) : PageModel
{
    [BindProperty]
    public InputModel Input { get; set; } = new();

    public string? ReturnUrl { get; private set; }

    public sealed class InputModel
    {
        [Required(ErrorMessage = "Enter your email address.")]
        [EmailAddress(ErrorMessage = "Enter a valid email address.")]
        [StringLength(254)]
        public string Email { get; set; } = "";

        [Required(ErrorMessage = "Enter your password.")]
        [StringLength(256)]
        [DataType(DataType.Password)]
        public string Password { get; set; } = "";

        [Display(Name = "Keep me signed in on this device")]
        public bool RememberMe { get; set; }
    }

    public void OnGet(string? returnUrl) => ReturnUrl = returnUrl;

    public async Task<IActionResult> OnPostAsync(string? returnUrl)
    {
        ReturnUrl = returnUrl;
        if (!ModelState.IsValid)
        {
            return Page();
        }
        // Unknown addresses are answered alike (docs/decisions/0006-sign-in-answers-alike.md) and recorded in no history:
        // there is no account to show them to.
        var (result, user) = await signIn.SignInWithPasswordAsync(Input.Email.Trim(), Input.Password, Input.RememberMe);
        if (result.Succeeded)
        {
            if (user is not null)
            {
                await history.SignedInAsync(HttpContext, user);
            }
            // Only local URLs: an open redirect after sign-in is a phishing tool.
            return LocalRedirect(Url.IsLocalUrl(returnUrl) ? returnUrl! : "/");
        }
        if (result.RequiresTwoFactor)
        {
            return RedirectToPage("LoginWith2fa", new { returnUrl = Url.IsLocalUrl(returnUrl) ? returnUrl : null, rememberMe = Input.RememberMe });
        }
        if (result.IsLockedOut)
        {
            if (user is not null)
            {
                await history.FailedAsync(HttpContext, user.Id, SignInOutcome.LockedOut);
            }
            return RedirectToPage("Lockout");
        }
        if (result.IsNotAllowed && user is not null)
        {
            // Only after the right password: the message tells nothing to someone who does not know it.
            await history.FailedAsync(HttpContext, user.Id, SignInOutcome.EmailNotConfirmed);
            ModelState.AddModelError(string.Empty, "Confirm your email address first: follow the link we sent you, or ask for a new one below.");
            return Page();
        }
        if (user is not null)
        {
            await history.FailedAsync(HttpContext, user.Id, SignInOutcome.WrongPassword);
        }
        ModelState.AddModelError(string.Empty, "Wrong email or password.");
        return Page();
    }
}

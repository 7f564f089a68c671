using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Infrastructure;
using Meta.ComputeAccess.Web.Configurations;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Account;

[AllowAnonymous]
[EnableRateLimiting(PortalRateLimits.Accounts)]
public sealed class LoginModel(SignInManager<PortalUser> signIn, UserManager<PortalUser> users, SignInAlerts alerts, TimeProvider clock) : PageModel
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
        var result = await signIn.PasswordSignInAsync(Input.Email.Trim(), Input.Password, Input.RememberMe, lockoutOnFailure: true);
        if (result.Succeeded)
        {
            if (await users.FindByEmailAsync(Input.Email.Trim()) is { } user)
            {
                // Before LastSignInAt changes: the first sign-in of an account raises no alert. UpdateAsync saves both.
                await alerts.OnSignedInAsync(HttpContext, user);
                user.LastSignInAt = clock.GetUtcNow();
                await users.UpdateAsync(user);
            }
            // Only local URLs: an open redirect after sign-in is a phishing tool.
            return LocalRedirect(Url.IsLocalUrl(returnUrl) ? returnUrl! : "/");
        }
        if (result.IsLockedOut)
        {
            return RedirectToPage("Lockout");
        }
        if (result.IsNotAllowed)
        {
            ModelState.AddModelError(string.Empty, "Confirm your email address first: follow the link we sent you, or ask for a new one below.");
            return Page();
        }
        ModelState.AddModelError(string.Empty, "Wrong email or password.");
        return Page();
    }
}

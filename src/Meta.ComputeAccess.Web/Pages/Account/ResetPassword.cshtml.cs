using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Web.Ui;
using System.Text;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Configurations;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>Sets a new password from a reset link (also the one-time link that <c>admin create</c> prints).</summary>
[AllowAnonymous]
[EnableRateLimiting(PortalRateLimits.Accounts)]
public sealed class ResetPasswordModel(UserManager<PortalUser> users, SignInThrottles throttles) : PageModel
{
    [BindProperty]
    public InputModel Input { get; set; } = new();

    public sealed class InputModel
    {
        [Required]
        public Guid UserId { get; set; }

        [Required]
        [StringLength(2000)]
        public string Code { get; set; } = "";

        [Required(ErrorMessage = "Choose a password.")]
        [PortalPassword]
        [DataType(DataType.Password)]
        [Display(Name = "New password")]
        public string Password { get; set; } = "";

        [Required(ErrorMessage = "Repeat the password.")]
        [Compare(nameof(Password), ErrorMessage = "The two passwords differ.")]
        [DataType(DataType.Password)]
        [Display(Name = "Repeat password")]
        public string ConfirmPassword { get; set; } = "";
    }

    public IActionResult OnGet(Guid? userId, string? code)
    {
        if (userId is null || string.IsNullOrEmpty(code))
        {
            return BadRequest();
        }
        Input = new InputModel { UserId = userId.Value, Code = code };
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }
        var user = await users.FindByIdAsync(Input.UserId.ToString());
        string token;
        try
        {
            token = Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(Input.Code));
        }
        catch (FormatException)
        {
            token = "";
        }
        var result = user is null ? IdentityResult.Failed() : await users.ResetPasswordAsync(user, token, Input.Password);
        if (!result.Succeeded)
        {
            var invalidToken = user is null || result.Errors.Any(e => e.Code == "InvalidToken");
            if (invalidToken)
            {
                ModelState.AddModelError(string.Empty, "This link is not valid any more: it may have expired or been used. Ask for a new one.");
            }
            foreach (var error in result.Errors.Where(e => e.Code != "InvalidToken"))
            {
                ModelState.AddModelError("Input.Password", error.Description);
            }
            return Page();
        }
        if (user is not null)
        {
            // Proving control of the mailbox ends a pause or lockout caused by someone guessing passwords or codes.
            await throttles.ClearAsync(SignInThrottles.KeyOf(users.NormalizeEmail(user.Email ?? "")), HttpContext.RequestAborted);
            if (await users.IsLockedOutAsync(user))
            {
                await users.SetLockoutEndDateAsync(user, null);
                await users.ResetAccessFailedCountAsync(user);
            }
        }
        TempData.Status("Your password is set. Sign in with it now.");
        return RedirectToPage("Login");
    }
}

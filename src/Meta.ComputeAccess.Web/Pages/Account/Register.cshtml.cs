using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Configurations;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>Researchers register themselves; reviewers and admins are researchers an admin has granted more.</summary>
[AllowAnonymous]
[EnableRateLimiting(PortalRateLimits.Accounts)]
public sealed class RegisterModel(AccountRegistration registration, TimeProvider clock) : PageModel
{
    [BindProperty]
    public InputModel Input { get; set; } = new();

    public sealed class InputModel : ProfileFields, IPasswordOwnerFields
    {
        [Required(ErrorMessage = "Enter your email address.")]
        [EmailAddress(ErrorMessage = "Enter a valid email address.")]
        [StringLength(254)]
        public string Email { get; set; } = "";

        [Required(ErrorMessage = "Choose a password.")]
        [PortalPassword]
        [DataType(DataType.Password)]
        public string Password { get; set; } = "";

        [Required(ErrorMessage = "Repeat the password.")]
        [Compare(nameof(Password), ErrorMessage = "The two passwords differ.")]
        [DataType(DataType.Password)]
        [Display(Name = "Repeat password")]
        public string ConfirmPassword { get; set; } = "";

        public IEnumerable<string?> PasswordPersonalWords => [FullName, Email];
    }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }
        var email = Input.Email.Trim();
        var candidate = new PortalUser { UserName = email, Email = email, CreatedAt = clock.GetUtcNow() };
        Input.ApplyTo(candidate);
        // The same answer whether or not the address has an account: the form cannot tell who has one.
        var registered = await registration.RegisterAsync(candidate, Input.Password);
        if (!registered.Succeeded)
        {
            foreach (var error in registered.Errors)
            {
                var field = error.Code.StartsWith("Password", StringComparison.Ordinal) ? "Input.Password" : "Input.Email";
                ModelState.AddModelError(field, error.Description);
            }
            return Page();
        }
        return RedirectToPage("RegisterConfirmation", new { email });
    }
}

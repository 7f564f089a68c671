using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Configurations;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>Researchers register themselves; reviewers and admins are researchers an admin has granted more.</summary>
[AllowAnonymous]
[EnableRateLimiting(PortalRateLimits.Accounts)]
public sealed class RegisterModel(UserManager<PortalUser> users, PortalDbContext db, AccountEmails emails, TimeProvider clock) : PageModel
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
        if (await users.FindByEmailAsync(email) is not null)
        {
            // Same answer as a new registration would get, so the form cannot be used to find out who has an account.
            return RedirectToPage("RegisterConfirmation", new { email });
        }
        var user = new PortalUser { UserName = email, Email = email, CreatedAt = clock.GetUtcNow() };
        Input.ApplyTo(user);

        await using var tx = await db.Database.BeginTransactionAsync();
        var created = await users.CreateAsync(user, Input.Password);
        if (!created.Succeeded)
        {
            foreach (var error in created.Errors)
            {
                var field = error.Code.StartsWith("Password", StringComparison.Ordinal) ? "Input.Password" : "Input.Email";
                ModelState.AddModelError(field, error.Description);
            }
            return Page();
        }
        var role = await users.AddToRoleAsync(user, Roles.Researcher);
        if (!role.Succeeded)
        {
            throw new InvalidOperationException("Could not add the Researcher role: " + string.Join("; ", role.Errors.Select(e => e.Description)));
        }
        await emails.QueueConfirmationAsync(user);
        await db.SaveChangesAsync();
        await tx.CommitAsync();
        return RedirectToPage("RegisterConfirmation", new { email });
    }
}

using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Data;
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
public sealed class ForgotPasswordModel(UserManager<PortalUser> users, AccountEmails emails, PortalDbContext db) : PageModel
{
    [BindProperty]
    [Required(ErrorMessage = "Enter your email address.")]
    [EmailAddress(ErrorMessage = "Enter a valid email address.")]
    [StringLength(254)]
    public string Email { get; set; } = "";

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }
        // Same answer for unknown and unconfirmed addresses: the form reveals nothing about who has an account.
        if (await users.FindByEmailAsync(Email.Trim()) is { EmailConfirmed: true } user)
        {
            await emails.QueuePasswordResetAsync(user);
            await db.SaveChangesAsync();
        }
        return RedirectToPage("ForgotPasswordConfirmation");
    }
}

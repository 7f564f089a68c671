using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>
/// A form that takes an email address and mails a link to its account when the account is in the right state
/// (<see cref="Wants"/>). The answer is the same whether or not a mail went out, so the form reveals nothing about
/// who has an account. Access rules (anonymous, rate-limited) are on each page.
/// </summary>
public abstract class EmailLinkRequestModel(UserManager<PortalUser> users, PortalDbContext db) : PageModel
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
        if (await users.FindByEmailAsync(Email.Trim()) is { } user && Wants(user))
        {
            await QueueAsync(user);
            await db.SaveChangesAsync();
        }
        return Answer();
    }

    /// <summary>Whether this account should get the mail.</summary>
    protected abstract bool Wants(PortalUser user);

    /// <summary>Puts the mail in the outbox (saved with the caller's unit of work).</summary>
    protected abstract Task QueueAsync(PortalUser user);

    /// <summary>The page shown afterwards, whatever happened.</summary>
    protected abstract IActionResult Answer();
}

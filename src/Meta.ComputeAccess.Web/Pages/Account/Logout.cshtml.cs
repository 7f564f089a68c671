using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>Sign out is a POST (with antiforgery) so a link on another site cannot sign anyone out.</summary>
public sealed class LogoutModel(SignInManager<PortalUser> signIn) : PageModel
{
    public IActionResult OnGet() => RedirectToPage("/Index");

    public async Task<IActionResult> OnPostAsync()
    {
        await signIn.SignOutAsync();
        TempData.Status("You are signed out.");
        return RedirectToPage("/Index");
    }
}

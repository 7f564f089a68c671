using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Account;

[AllowAnonymous]
public sealed class ForgotPasswordConfirmationModel(IWebHostEnvironment environment) : PageModel
{
    public bool ShowDevMailbox => environment.IsDevelopment();

    public void OnGet()
    {
    }
}

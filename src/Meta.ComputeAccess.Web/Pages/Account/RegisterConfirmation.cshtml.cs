using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Account;

[AllowAnonymous]
public sealed class RegisterConfirmationModel(IWebHostEnvironment environment) : PageModel
{
    public string? Email { get; private set; }

    public bool ShowDevMailbox => environment.IsDevelopment();

    public void OnGet(string? email) => Email = email;
}

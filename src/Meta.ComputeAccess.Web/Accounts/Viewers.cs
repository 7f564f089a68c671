using Meta.ComputeAccess.Web.Configurations;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Accounts;

public static class Viewers
{
    /// <summary>
    /// The signed-in user as a <see cref="Viewer"/>. Admin rights come from the Admin policy (with its two-factor
    /// requirement), so a password-only session of an admin sees what any other user sees.
    /// </summary>
    public static async Task<Viewer> ViewerAsync(this PageModel page)
    {
        var authorization = page.HttpContext.RequestServices.GetRequiredService<IAuthorizationService>();
        var admin = await authorization.AuthorizeAsync(page.User, Policies.Admin);
        return new Viewer(page.User.GetUserId(), admin.Succeeded);
    }
}

using System.Security.Claims;
using Meta.ComputeAccess.Web.Configurations;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>
/// What this session may use of the staff roles, from the Admin, Reviewer, Compliance and Safety policies (role and two-factor sign-in),
/// never from the bare role: a password-only session of an admin sees what any other user sees.
/// </summary>
/// <param name="TwoFactorMissing">The account has a staff role that this session lacks only for want of two-factor sign-in.</param>
public sealed record StaffAccess(bool Admin, bool Reviewer, bool Researcher, bool Compliance, bool Safety, bool TwoFactorMissing)
{
    public static StaffAccess None { get; } = new(false, false, false, false, false, false);
}

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

    /// <summary>
    /// The one way a page or view decides what of the staff roles to show (navigation, dashboard sections, the kinds
    /// of notice offered): the same policies that guard the staff folders. <c>User.IsInRole</c> is not used for it.
    /// </summary>
    public static async Task<StaffAccess> StaffAccessAsync(this IAuthorizationService authorization, ClaimsPrincipal user)
    {
        if (!user.IsPortalUser())
        {
            return StaffAccess.None;
        }
        var admin = await authorization.AuthorizeAsync(user, Policies.Admin);
        var reviewer = await authorization.AuthorizeAsync(user, Policies.Reviewer);
        var researcher = await authorization.AuthorizeAsync(user, Policies.Researcher);
        var compliance = await authorization.AuthorizeAsync(user, Policies.Compliance);
        var safety = await authorization.AuthorizeAsync(user, Policies.Safety);
        return new StaffAccess(admin.Succeeded, reviewer.Succeeded, researcher.Succeeded, compliance.Succeeded, safety.Succeeded,
            StaffTwoFactorRequirement.OnlyThisFailed(admin.Failure) || StaffTwoFactorRequirement.OnlyThisFailed(reviewer.Failure)
            || StaffTwoFactorRequirement.OnlyThisFailed(compliance.Failure) || StaffTwoFactorRequirement.OnlyThisFailed(safety.Failure));
    }
}

using System.Security.Claims;

namespace Meta.ComputeAccess.Web.Accounts;

public static class ClaimsPrincipalExtensions
{
    /// <summary>
    /// True for a person signed in to the portal; false for visitors and for machine callers (cluster tokens),
    /// which are authenticated but are not users and have no pages.
    /// </summary>
    public static bool IsPortalUser(this ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true && user.FindFirst(ClaimTypes.NameIdentifier) is not null;

    /// <summary>The signed-in user's id; pages behind the fallback policy always have one.</summary>
    public static Guid GetUserId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var id)
            ? id
            : throw new InvalidOperationException("The request has no signed-in user.");
}

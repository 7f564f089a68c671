using System.Security.Claims;

namespace Meta.ComputeAccess.Web.Infrastructure;

public static class ClaimsPrincipalExtensions
{
    /// <summary>The signed-in user's id; pages behind the fallback policy always have one.</summary>
    public static Guid GetUserId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var id)
            ? id
            : throw new InvalidOperationException("The request has no signed-in user.");
}

using System.Security.Claims;
using Meta.ComputeAccess.Identity;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Infrastructure;

/// <summary>Adds the user's time zone and full name to the sign-in cookie so pages need no extra query for them.</summary>
public sealed class PortalClaimsFactory(UserManager<PortalUser> users, RoleManager<PortalRole> roles, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<PortalUser, PortalRole>(users, roles, options)
{
    public const string FullNameClaim = "mca:name";

    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(PortalUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim(UserTime.ClaimType, user.TimeZoneId));
        identity.AddClaim(new Claim(FullNameClaim, user.FullName));
        return identity;
    }
}

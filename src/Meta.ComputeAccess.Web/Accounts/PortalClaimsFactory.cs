using System.Security.Claims;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>
/// Adds the user's time zone, full name and two-factor state to the sign-in cookie so pages and policies need no
/// extra query for them. Rebuilt at every security-stamp validation, so a change reaches other sessions within minutes.
/// </summary>
public sealed class PortalClaimsFactory(UserManager<PortalUser> users, RoleManager<PortalRole> roles, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<PortalUser, PortalRole>(users, roles, options)
{
    public const string FullNameClaim = "mca:name";

    /// <summary>"true" while the account has two-factor sign-in turned on.</summary>
    public const string TwoFactorEnabledClaim = "mca:2fa";

    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(PortalUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim(UserTime.ClaimType, user.TimeZoneId));
        identity.AddClaim(new Claim(FullNameClaim, user.FullName));
        if (user.TwoFactorEnabled)
        {
            identity.AddClaim(new Claim(TwoFactorEnabledClaim, "true"));
        }
        return identity;
    }
}

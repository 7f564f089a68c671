using System.Security.Claims;
using Meta.ComputeAccess.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>
/// Identity's sign-in manager with the portal's two-factor rules (docs/decisions/0004-two-factor-for-staff.md):
/// <list type="bullet">
/// <item>a sign-in from a browser remembered after a two-factor sign-in ("Remember this browser", 14 days, ended by a
/// changed security stamp) counts as two-factor; Identity marks it <c>amr=pwd</c>, which would send staff back to
/// enter a code the remembered browser stands in for;</item>
/// <item>a sign-in through an identity provider that checked a second factor itself counts as two-factor
/// (<see cref="ExternalSignInAsync"/>), and keeps counting while the session lasts.</item>
/// </list>
/// </summary>
public sealed class PortalSignInManager(
    UserManager<PortalUser> users,
    IHttpContextAccessor http,
    IUserClaimsPrincipalFactory<PortalUser> claims,
    IOptions<IdentityOptions> options,
    ILogger<SignInManager<PortalUser>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<PortalUser> confirmation)
    : SignInManager<PortalUser>(users, http, claims, options, logger, schemes, confirmation)
{
    /// <summary>
    /// Signs in the account linked to <paramref name="login"/>. When <paramref name="providerCheckedSecondFactor"/>, the
    /// provider's second factor is the session's (no authenticator code is asked for); otherwise the account's own
    /// two-factor sign-in applies as after a password.
    /// </summary>
    public async Task<SignInResult> ExternalSignInAsync(ExternalLoginInfo login, bool providerCheckedSecondFactor)
    {
        if (!providerCheckedSecondFactor)
        {
            return await ExternalLoginSignInAsync(login.LoginProvider, login.ProviderKey, isPersistent: false);
        }
        if (await UserManager.FindByLoginAsync(login.LoginProvider, login.ProviderKey) is not { } user)
        {
            return SignInResult.Failed;
        }
        if (await PreSignInCheck(user) is { } refused)
        {
            return refused;
        }
        await Context.SignOutAsync(IdentityConstants.ExternalScheme);
        await SignInWithClaimsAsync(user, isPersistent: false, SecondFactorClaims(login.LoginProvider, byProvider: true));
        return SignInResult.Success;
    }

    /// <summary>
    /// Identity keeps only the sign-in method and the first <c>amr</c> of the session; a second factor vouched for by
    /// a provider stays too, as long as that provider's sign-in is still linked to the account.
    /// </summary>
    public override async Task RefreshSignInAsync(PortalUser user)
    {
        var current = await Context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        if (current.Principal?.FindFirst(StaffTwoFactorRequirement.ProviderSecondFactorClaim) is not { } vouched
            || UserManager.GetUserId(current.Principal) != user.Id.ToString()
            || !(await UserManager.GetLoginsAsync(user)).Any(l => l.LoginProvider == vouched.Value))
        {
            await base.RefreshSignInAsync(user);
            return;
        }
        await SignInWithClaimsAsync(user, current.Properties, SecondFactorClaims(vouched.Value, byProvider: true));
    }

    protected override async Task<SignInResult> SignInOrTwoFactorAsync(PortalUser user, bool isPersistent, string? loginProvider = null, bool bypassTwoFactor = false)
    {
        if (!bypassTwoFactor && await IsTwoFactorEnabledAsync(user) && await IsTwoFactorClientRememberedAsync(user))
        {
            if (loginProvider is not null)
            {
                await Context.SignOutAsync(IdentityConstants.ExternalScheme);
            }
            await SignInWithClaimsAsync(user, isPersistent, SecondFactorClaims(loginProvider, byProvider: false));
            return SignInResult.Success;
        }
        return await base.SignInOrTwoFactorAsync(user, isPersistent, loginProvider, bypassTwoFactor);
    }

    private static List<Claim> SecondFactorClaims(string? loginProvider, bool byProvider)
    {
        var claims = new List<Claim> { new(StaffTwoFactorRequirement.AuthenticationMethodClaim, StaffTwoFactorRequirement.MultiFactor) };
        if (loginProvider is not null)
        {
            // As Identity marks any sign-in through a provider.
            claims.Add(new Claim(ClaimTypes.AuthenticationMethod, loginProvider));
        }
        if (byProvider && loginProvider is not null)
        {
            claims.Add(new Claim(StaffTwoFactorRequirement.ProviderSecondFactorClaim, loginProvider));
        }
        return claims;
    }
}

using System.Security.Claims;
using Meta.ComputeAccess.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>What a password sign-in came to, and the account of the address when there is one (for the sign-in history).</summary>
public sealed record PasswordSignIn(SignInResult Result, PortalUser? User);

/// <summary>
/// Identity's sign-in manager with the portal's rules.
/// <para>
/// A password sign-in answers alike whether or not the address has an account (docs/decisions/0006-sign-in-answers-alike.md):
/// wrong passwords are counted per typed address (<see cref="SignInThrottles"/>), so an unknown address is paused
/// after as many attempts as a real one; an unknown address has a password hashed too; and whatever the account's
/// state (unconfirmed email, two-factor, locked by wrong codes) shows only once the password is proven.
/// </para>
/// <para>
/// Two-factor (docs/decisions/0004-two-factor-for-staff.md): a password sign-in from a browser remembered after a
/// two-factor sign-in ("Remember this browser", 14 days, ended by a changed security stamp) counts as two-factor
/// (Identity marks it <c>amr=pwd</c>, which would send staff back to enter a code the remembered browser stands in
/// for); a sign-in through an identity provider that checked a second factor itself counts as two-factor
/// (<see cref="ExternalSignInAsync"/>), and keeps counting while the session lasts.
/// </para>
/// </summary>
public sealed class PortalSignInManager(
    UserManager<PortalUser> users,
    IHttpContextAccessor http,
    IUserClaimsPrincipalFactory<PortalUser> claims,
    IOptions<IdentityOptions> options,
    ILogger<SignInManager<PortalUser>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<PortalUser> confirmation,
    SignInThrottles throttles)
    : SignInManager<PortalUser>(users, http, claims, options, logger, schemes, confirmation)
{
    /// <summary>A hash of a random password, checked against when there is no account, so that no answer comes back sooner.</summary>
    private static string? standInHash;

    /// <summary>
    /// Signs in with an address and a password. The answer is <see cref="SignInResult.LockedOut"/> while the address is
    /// paused (with or without an account), <see cref="SignInResult.Failed"/> for a wrong password or an unknown address;
    /// only a right password leads to <see cref="SignInResult.NotAllowed"/> (email not confirmed), two-factor or success.
    /// </summary>
    public async Task<PasswordSignIn> SignInWithPasswordAsync(string email, string password, bool isPersistent)
    {
        var cancellationToken = Context.RequestAborted;
        var key = SignInThrottles.KeyOf(UserManager.NormalizeEmail(email));
        var user = await UserManager.FindByEmailAsync(email);
        var (attempts, window) = (Options.Lockout.MaxFailedAccessAttempts, Options.Lockout.DefaultLockoutTimeSpan);
        if (await throttles.IsPausedAsync(key, attempts, window, cancellationToken))
        {
            return new(SignInResult.LockedOut, user);
        }
        if (!await CheckPasswordAlikeAsync(user, password))
        {
            var paused = await throttles.FailedAsync(key, attempts, window, cancellationToken);
            return new(paused ? SignInResult.LockedOut : SignInResult.Failed, user);
        }
        await throttles.ClearAsync(key, cancellationToken);
        if (!await CanSignInAsync(user!))
        {
            return new(SignInResult.NotAllowed, user);
        }
        // Locked by wrong two-factor or recovery codes (Identity's own lockout), told only to someone who knows the password.
        if (await IsLockedOut(user!))
        {
            return new(SignInResult.LockedOut, user);
        }
        return new(await SignInOrTwoFactorAsync(user!, isPersistent), user);
    }

    /// <summary>The account's password check, or, without an account or a password, the same work against a stand-in hash.</summary>
    private async Task<bool> CheckPasswordAlikeAsync(PortalUser? user, string password)
    {
        if (user is { PasswordHash: not null })
        {
            return await UserManager.CheckPasswordAsync(user, password);
        }
        var hasher = UserManager.PasswordHasher;
        var standIn = standInHash ??= hasher.HashPassword(new PortalUser(), Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        hasher.VerifyHashedPassword(user ?? new PortalUser(), standIn, password);
        return false;
    }

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

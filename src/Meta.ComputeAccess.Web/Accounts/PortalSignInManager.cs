using System.Security.Claims;
using Meta.ComputeAccess.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>What a password sign-in came to, and the account of the address when there is one (for the sign-in history).</summary>
public sealed record PasswordSignIn(SignInResult Result, PortalUser? User);

/// <summary>
/// Identity's sign-in manager with two changes.
/// <para>
/// A password sign-in answers alike whether or not the address has an account (docs/decisions/0006-sign-in-answers-alike.md):
/// wrong passwords are counted per typed address (<see cref="SignInThrottles"/>), so an unknown address is paused
/// after as many attempts as a real one; an unknown address has a password hashed too; and whatever the account's
/// state (unconfirmed email, two-factor, locked by wrong codes) shows only once the password is proven.
/// </para>
/// <para>
/// A password sign-in from a browser remembered after a two-factor sign-in ("Remember this browser", 14 days, ended
/// by a changed security stamp) counts as two-factor. Identity marks it <c>amr=pwd</c>, which would send staff back
/// to enter a code the remembered browser stands in for.
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

    protected override async Task<SignInResult> SignInOrTwoFactorAsync(PortalUser user, bool isPersistent, string? loginProvider = null, bool bypassTwoFactor = false)
    {
        if (!bypassTwoFactor && loginProvider is null && await IsTwoFactorEnabledAsync(user) && await IsTwoFactorClientRememberedAsync(user))
        {
            await SignInWithClaimsAsync(user, isPersistent, [new Claim(StaffTwoFactorRequirement.AuthenticationMethodClaim, StaffTwoFactorRequirement.MultiFactor)]);
            return SignInResult.Success;
        }
        return await base.SignInOrTwoFactorAsync(user, isPersistent, loginProvider, bypassTwoFactor);
    }
}

using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>
/// Two-factor sign-in with an authenticator app (TOTP): set up (key and QR code), confirm with a code, recovery
/// codes shown once, new recovery codes, turn off. Staff refused for want of it are sent here with the reason.
/// </summary>
[Authorize]
public sealed class TwoFactorModel(UserManager<PortalUser> users, SignInManager<PortalUser> signIn, AuditLog audit, IOptions<AccountSecurityOptions> security) : PageModel
{
    [BindProperty]
    public CodeInput Input { get; set; } = new();

    public bool IsEnabled { get; private set; }

    /// <summary>Set-up started: a key exists but no code has confirmed it yet.</summary>
    public string? SharedKey { get; private set; }

    public string? QrCodeDataUri { get; private set; }

    public int RecoveryCodesLeft { get; private set; }

    /// <summary>New recovery codes, shown on this one answer only.</summary>
    public IReadOnlyList<string> NewRecoveryCodes { get; private set; } = [];

    /// <summary>Sent here because a staff page refused this session.</summary>
    public bool Required { get; private set; }

    public bool StaffNeedTwoFactor => security.Value.RequireTwoFactorForStaff;

    public bool SessionUsedTwoFactor =>
        User.HasClaim(StaffTwoFactorRequirement.AuthenticationMethodClaim, StaffTwoFactorRequirement.MultiFactor);

    public string? ReturnUrl { get; private set; }

    public sealed class CodeInput
    {
        [Required(ErrorMessage = "Enter the 6-digit code from your authenticator app.")]
        [StringLength(12, ErrorMessage = "The code has 6 digits.")]
        [Display(Name = "Code from the app")]
        public string Code { get; set; } = "";
    }

    public async Task<IActionResult> OnGetAsync(bool required, string? returnUrl)
    {
        Remember(required, returnUrl);
        return await users.GetUserAsync(User) is { } user ? await ShowAsync(user) : NotFound();
    }

    /// <summary>Starts (or restarts) set-up with a new key; nothing changes for sign-in until a code confirms it.</summary>
    public async Task<IActionResult> OnPostSetupAsync(bool required, string? returnUrl)
    {
        Remember(required, returnUrl);
        if (await users.GetUserAsync(User) is not { } user)
        {
            return NotFound();
        }
        if (user.TwoFactorEnabled)
        {
            return RedirectToPage(new { required = Required, returnUrl = ReturnUrl });
        }
        // A new key changes the security stamp; the refresh keeps this session valid.
        Check(await users.ResetAuthenticatorKeyAsync(user));
        await signIn.RefreshSignInAsync(user);
        return RedirectToPage(new { required = Required, returnUrl = ReturnUrl });
    }

    public async Task<IActionResult> OnPostEnableAsync(bool required, string? returnUrl)
    {
        Remember(required, returnUrl);
        if (await users.GetUserAsync(User) is not { } user)
        {
            return NotFound();
        }
        if (user.TwoFactorEnabled || await users.GetAuthenticatorKeyAsync(user) is null)
        {
            return RedirectToPage(new { required = Required, returnUrl = ReturnUrl });
        }
        if (!ModelState.IsValid || !await VerifyAsync(user))
        {
            return await ShowAsync(user);
        }
        audit.Record(user.Id, "2fa.enabled", "user", user.Id.ToString(), "Turned on two-factor sign-in with an authenticator app");
        Check(await users.SetTwoFactorEnabledAsync(user, true));
        NewRecoveryCodes = [.. await users.GenerateNewTwoFactorRecoveryCodesAsync(user, TwoFactorCodes.RecoveryCodeCount) ?? []];
        // The code just entered is a second factor: this session counts as signed in with it, keeping its
        // sign-in time and persistence (the absolute limit still runs from the original sign-in).
        var current = await HttpContext.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        await signIn.SignInWithClaimsAsync(user, current.Properties,
            [new Claim(StaffTwoFactorRequirement.AuthenticationMethodClaim, StaffTwoFactorRequirement.MultiFactor)]);
        TempData.Status("Two-factor sign-in is on.");
        return await ShowAsync(user, signedInWithCode: true);
    }

    public async Task<IActionResult> OnPostRecoveryCodesAsync(bool required, string? returnUrl)
    {
        Remember(required, returnUrl);
        if (await users.GetUserAsync(User) is not { } user)
        {
            return NotFound();
        }
        if (!user.TwoFactorEnabled)
        {
            return RedirectToPage(new { required = Required, returnUrl = ReturnUrl });
        }
        audit.Record(user.Id, "2fa.recovery-codes-regenerated", "user", user.Id.ToString(), "Made new recovery codes; the old ones no longer work");
        NewRecoveryCodes = [.. await users.GenerateNewTwoFactorRecoveryCodesAsync(user, TwoFactorCodes.RecoveryCodeCount) ?? []];
        await signIn.RefreshSignInAsync(user);
        return await ShowAsync(user);
    }

    /// <summary>Turning it off needs a current code, so a session left open cannot weaken the account.</summary>
    public async Task<IActionResult> OnPostDisableAsync(bool required, string? returnUrl)
    {
        Remember(required, returnUrl);
        if (await users.GetUserAsync(User) is not { } user)
        {
            return NotFound();
        }
        if (!user.TwoFactorEnabled)
        {
            return RedirectToPage();
        }
        if (!ModelState.IsValid || !await VerifyAsync(user))
        {
            return await ShowAsync(user);
        }
        audit.Record(user.Id, "2fa.disabled", "user", user.Id.ToString(), "Turned off two-factor sign-in");
        Check(await users.SetTwoFactorEnabledAsync(user, false));
        // The old key and codes must not come back with a later set-up; remembered browsers are forgotten by the new stamp.
        Check(await users.ResetAuthenticatorKeyAsync(user));
        await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 0);
        await signIn.ForgetTwoFactorClientAsync();
        await signIn.RefreshSignInAsync(user);
        TempData.Status("Two-factor sign-in is off.");
        return RedirectToPage();
    }

    private async Task<bool> VerifyAsync(PortalUser user)
    {
        var code = TwoFactorCodes.Normalize(Input.Code);
        if (TwoFactorCodes.IsAuthenticatorCode(code)
            && await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, code))
        {
            return true;
        }
        ModelState.AddModelError($"{nameof(Input)}.{nameof(Input.Code)}", "That code is not right. Enter the 6 digits your app shows now.");
        return false;
    }

    private async Task<IActionResult> ShowAsync(PortalUser user, bool signedInWithCode = false)
    {
        IsEnabled = user.TwoFactorEnabled;
        if (signedInWithCode)
        {
            Required = false;
        }
        if (IsEnabled)
        {
            RecoveryCodesLeft = await users.CountRecoveryCodesAsync(user);
        }
        else if (await users.GetAuthenticatorKeyAsync(user) is { Length: > 0 } key)
        {
            SharedKey = AuthenticatorQrCode.Grouped(key);
            QrCodeDataUri = AuthenticatorQrCode.PngDataUri(AuthenticatorQrCode.Uri(user.Email ?? user.UserName ?? "", key));
        }
        return Page();
    }

    private void Remember(bool required, string? returnUrl)
    {
        Required = required;
        ReturnUrl = Url.IsLocalUrl(returnUrl) ? returnUrl : null;
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(string.Join(" ", result.Errors.Select(e => e.Code)));
        }
    }
}

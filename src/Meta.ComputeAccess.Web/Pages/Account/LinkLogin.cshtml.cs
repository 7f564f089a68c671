using System.ComponentModel.DataAnnotations;
using System.Text;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Configurations;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.WebUtilities;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>
/// A provider vouches for an address that already has an account: the sign-in is linked to it only once the person
/// proves the account is theirs, with its password or a link mailed to the account's address and opened in this
/// browser. Never silently: whoever controls an address at some provider does not get the account with it.
/// </summary>
[AllowAnonymous]
[EnableRateLimiting(PortalRateLimits.Accounts)]
public sealed class LinkLoginModel(PortalSignInManager signIn, IdentityProviders providers, FederatedAccounts accounts, SignInHistory history) : PageModel
{
    private ExternalLoginInfo login = null!;

    private PortalUser account = null!;

    [BindProperty]
    public PasswordInput Input { get; set; } = new();

    public ProviderIdentity Provider { get; private set; } = null!;

    public string? ReturnUrl { get; private set; }

    /// <summary>The link was mailed: the page says where to look.</summary>
    public bool LinkSent { get; private set; }

    public sealed class PasswordInput
    {
        [Required(ErrorMessage = "Enter the password of your account.")]
        [StringLength(256)]
        [DataType(DataType.Password)]
        public string Password { get; set; } = "";
    }

    public async Task<IActionResult> OnGetAsync(string? returnUrl, bool sent) =>
        await PendingAsync(returnUrl) ?? Show(sent);

    public async Task<IActionResult> OnPostPasswordAsync(string? returnUrl, CancellationToken cancellationToken)
    {
        if (await PendingAsync(returnUrl) is { } elsewhere)
        {
            return elsewhere;
        }
        if (!ModelState.IsValid)
        {
            return Show(false);
        }
        var check = await signIn.CheckPasswordSignInAsync(account, Input.Password, lockoutOnFailure: true);
        if (check.IsLockedOut)
        {
            await history.FailedAsync(HttpContext, account.Id, SignInOutcome.LockedOut);
            return RedirectToPage("Lockout");
        }
        if (check.IsNotAllowed)
        {
            ModelState.AddModelError(string.Empty, "This account's address is not confirmed yet, so its password cannot prove it is yours: send yourself a link instead.");
            return Show(false);
        }
        if (!check.Succeeded)
        {
            await history.FailedAsync(HttpContext, account.Id, SignInOutcome.WrongPassword);
            ModelState.AddModelError($"{nameof(Input)}.{nameof(Input.Password)}", "Wrong password.");
            return Show(false);
        }
        return await this.RunAsync(async () =>
        {
            await accounts.LinkAsync(account.Id, Provider, LinkProof.Password, cancellationToken);
            return await SignInAsync();
        }, () => Task.FromResult<IActionResult>(Show(false)));
    }

    public async Task<IActionResult> OnPostMailAsync(string? returnUrl, CancellationToken cancellationToken)
    {
        if (await PendingAsync(returnUrl) is { } elsewhere)
        {
            return elsewhere;
        }
        ModelState.Clear();
        return await this.RunAsync(async () =>
        {
            await accounts.RequestLinkByMailAsync(account.Id, Provider, cancellationToken);
            return RedirectToPage(new { returnUrl = ReturnUrl, sent = true });
        }, () => Task.FromResult<IActionResult>(Show(false)));
    }

    /// <summary>The mailed link: it works only in the browser that holds the provider sign-in it names.</summary>
    public async Task<IActionResult> OnGetMailAsync(Guid? userId, string? code, CancellationToken cancellationToken)
    {
        if (await signIn.GetExternalLoginInfoAsync() is not { } pending || providers.Find(pending.LoginProvider) is null)
        {
            TempData.Error("Open the link in the browser where you signed in with your institution or ORCID, within 30 minutes of signing in. Nothing was changed.");
            return RedirectToPage("Login");
        }
        login = pending;
        Provider = providers.Read(pending);
        string token;
        try
        {
            token = Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(code ?? ""));
        }
        catch (FormatException)
        {
            token = "";
        }
        return await this.RunAsync(async () =>
        {
            await accounts.LinkByMailAsync(userId ?? Guid.Empty, Provider, token, cancellationToken);
            return await SignInAsync();
        }, () =>
        {
            TempData.Error(string.Join(" ", ModelState[string.Empty]?.Errors.Select(e => e.ErrorMessage) ?? []));
            return Task.FromResult<IActionResult>(RedirectToPage("Login"));
        });
    }

    private async Task<IActionResult> SignInAsync()
    {
        var result = await signIn.ExternalSignInAsync(login, providers.VouchesForSecondFactor(login));
        if (result.RequiresTwoFactor)
        {
            return RedirectToPage("LoginWith2fa", new { returnUrl = ReturnUrl });
        }
        if (result.Succeeded && await accounts.FindLinkedAsync(Provider) is { } user)
        {
            await history.SignedInAsync(HttpContext, user);
            TempData.Status($"Linked: you can now sign in with {Provider.ProviderName}.");
        }
        return LocalRedirect(ReturnUrl ?? "/");
    }

    private PageResult Show(bool sent)
    {
        LinkSent = sent;
        return Page();
    }

    /// <summary>The provider sign-in and the account it would be linked to, or where to go instead.</summary>
    private async Task<IActionResult?> PendingAsync(string? returnUrl)
    {
        ReturnUrl = Url.IsLocalUrl(returnUrl) ? returnUrl : null;
        if (await signIn.GetExternalLoginInfoAsync() is not { } pending || providers.Find(pending.LoginProvider) is null)
        {
            return RedirectToPage("Login");
        }
        login = pending;
        Provider = providers.Read(pending);
        if (await accounts.FindLinkedAsync(Provider) is not null)
        {
            return RedirectToPage("ExternalLogin", "Callback", new { returnUrl = ReturnUrl });
        }
        if (await accounts.FindByVerifiedEmailAsync(Provider) is not { } existing)
        {
            return RedirectToPage("ExternalSignup", new { returnUrl = ReturnUrl });
        }
        account = existing;
        return null;
    }
}

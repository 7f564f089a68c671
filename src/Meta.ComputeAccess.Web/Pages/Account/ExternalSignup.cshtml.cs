using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Configurations;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>
/// The first sign-in through a provider: what the provider sent (name, institution, address, ORCID iD) filled in,
/// and what it did not (country, fields, perhaps the address) asked for. Only in the middle of such a sign-in.
/// </summary>
[AllowAnonymous]
[EnableRateLimiting(PortalRateLimits.Accounts)]
public sealed class ExternalSignupModel(PortalSignInManager signIn, IdentityProviders providers, FederatedAccounts accounts, SignInHistory history) : PageModel
{
    private ExternalLoginInfo login = null!;

    [BindProperty]
    public SignupInput Input { get; set; } = new();

    /// <summary>What the provider said; never from the form.</summary>
    public ProviderIdentity Provider { get; private set; } = null!;

    public string? ReturnUrl { get; private set; }

    public sealed class SignupInput : ProfileFields
    {
        /// <summary>Only asked for when the provider does not vouch for an address.</summary>
        [EmailAddress(ErrorMessage = "Enter a valid email address.")]
        [StringLength(254)]
        public string? Email { get; set; }
    }

    public async Task<IActionResult> OnGetAsync(string? returnUrl)
    {
        if (await PendingAsync(returnUrl) is { } elsewhere)
        {
            return elsewhere;
        }
        Input = new SignupInput { FullName = Provider.FullName ?? "", Institution = Provider.Institution ?? "", Email = Provider.Email, OrcidId = Provider.OrcidId };
        return Show();
    }

    public async Task<IActionResult> OnPostAsync(string? returnUrl, CancellationToken cancellationToken)
    {
        if (await PendingAsync(returnUrl) is { } elsewhere)
        {
            return elsewhere;
        }
        if (Provider.VerifiedEmail is null && string.IsNullOrWhiteSpace(Input.Email))
        {
            ModelState.AddModelError("Input.Email", "Enter your email address.");
        }
        if (!ModelState.IsValid)
        {
            return Show();
        }
        var typedOrcid = Orcid.TryNormalize(Input.OrcidId, out var orcid) ? orcid : null;
        return await this.RunAsync(async () =>
        {
            var details = new NewAccountDetails(Input.Email ?? "", Input.FullName, Input.Institution, Input.Country, Input.TimeZoneId, Input.ResearchFields, typedOrcid);
            var signUp = await accounts.SignUpAsync(Provider, details, cancellationToken);
            if (signUp.Outcome != SignUpOutcome.Ready)
            {
                // A new account and an address that has one already get the same answer: check your mail.
                return RedirectToPage("RegisterConfirmation", new { email = Input.Email?.Trim() });
            }
            var result = await signIn.ExternalSignInAsync(login, providers.VouchesForSecondFactor(login));
            if (result.Succeeded && await accounts.FindLinkedAsync(Provider) is { } user)
            {
                await history.SignedInAsync(HttpContext, user);
            }
            TempData.Status("Welcome! Your account is ready.");
            return LocalRedirect(ReturnUrl ?? "/");
        }, () => Task.FromResult<IActionResult>(Show()), fieldPrefix: "Input.");
    }

    private PageResult Show()
    {
        ViewData["InstitutionVerified"] = Provider.Institution is not null && Provider.Institution == Input.Institution.Trim();
        ViewData["OrcidVerified"] = ViewData["OrcidFixed"] = Provider.OrcidId is not null;
        if (Provider.OrcidId is not null)
        {
            Input.OrcidId = Provider.OrcidId;
        }
        return Page();
    }

    /// <summary>The provider sign-in this page finishes, or where to go instead: it is gone, or already has an account.</summary>
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
        return await accounts.FindByVerifiedEmailAsync(Provider) is not null ? RedirectToPage("LinkLogin", new { returnUrl = ReturnUrl }) : null;
    }
}

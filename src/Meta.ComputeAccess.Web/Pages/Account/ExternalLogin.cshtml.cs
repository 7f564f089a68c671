using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Configurations;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>
/// Sign-in through an identity provider: the button posts here and goes to the provider; the provider's answer
/// (checked by the OpenID Connect handler at /signin-{provider}) comes back to <see cref="OnGetCallbackAsync"/>, which
/// signs the person in, or sends them to create their account (<see cref="ExternalSignupModel"/>) or to prove an
/// existing one is theirs (<see cref="LinkLoginModel"/>). Refused answers end on <see cref="OnGetFailed"/>.
/// </summary>
[AllowAnonymous]
[EnableRateLimiting(PortalRateLimits.Accounts)]
public sealed class ExternalLoginModel(PortalSignInManager signIn, IdentityProviders providers, FederatedAccounts accounts, SignInHistory history, ILogger<ExternalLoginModel> logger) : PageModel
{
    public ExternalSignInFailure? Failure { get; private set; }

    public string ProviderName { get; private set; } = "the identity provider";

    public IActionResult OnGet() => RedirectToPage("Login");

    public async Task<IActionResult> OnPostAsync(string? provider, string? returnUrl)
    {
        if (providers.Find(provider) is null)
        {
            return Failed(provider, ExternalSignInFailure.UnknownProvider, StatusCodes.Status400BadRequest);
        }
        var callback = Url.Page("/Account/ExternalLogin", "Callback", new { returnUrl = Local(returnUrl) });
        try
        {
            // Run here rather than as a ChallengeResult: the handler first reads the provider's discovery document.
            await HttpContext.ChallengeAsync(provider, signIn.ConfigureExternalAuthenticationProperties(provider, callback));
            return new EmptyResult();
        }
        catch (Exception e) when (!Response.HasStarted && !HttpContext.RequestAborted.IsCancellationRequested
            && e is HttpRequestException or OperationCanceledException or InvalidOperationException { InnerException: IOException or HttpRequestException or OperationCanceledException })
        {
            // The provider is down or too slow (IDX20803 wraps the transport's failure): a page that says so, not an error.
            PortalFederatedSignIn.LogRefused(logger, LogLevel.Warning, provider!, ExternalSignInFailure.Unreachable, e.GetType().Name);
            return Failed(provider, ExternalSignInFailure.Unreachable, StatusCodes.Status200OK);
        }
    }

    public async Task<IActionResult> OnGetCallbackAsync(string? returnUrl)
    {
        returnUrl = Local(returnUrl);
        if (await signIn.GetExternalLoginInfoAsync() is not { } login || providers.Find(login.LoginProvider) is null)
        {
            return Failed(null, ExternalSignInFailure.Expired, StatusCodes.Status200OK);
        }
        var result = await signIn.ExternalSignInAsync(login, providers.VouchesForSecondFactor(login));
        if (result.Succeeded)
        {
            if (await accounts.FindLinkedAsync(providers.Read(login)) is { } user)
            {
                await history.SignedInAsync(HttpContext, user);
            }
            return LocalRedirect(returnUrl ?? "/");
        }
        if (result.RequiresTwoFactor)
        {
            return RedirectToPage("LoginWith2fa", new { returnUrl });
        }
        if (result.IsLockedOut)
        {
            return RedirectToPage("Lockout");
        }
        if (result.IsNotAllowed)
        {
            // Linked, but the address the account was created with is not confirmed yet.
            TempData.Error("Confirm your email address first: follow the link we sent you, then sign in again.");
            return RedirectToPage("Login");
        }
        // Not linked to any account yet: an account with the address the provider vouches for needs proof it is theirs.
        return await accounts.FindByVerifiedEmailAsync(providers.Read(login)) is not null
            ? RedirectToPage("LinkLogin", new { returnUrl })
            : RedirectToPage("ExternalSignup", new { returnUrl });
    }

    public IActionResult OnGetFailed(string? provider, ExternalSignInFailure reason) => Failed(provider, reason, StatusCodes.Status200OK);

    private PageResult Failed(string? provider, ExternalSignInFailure reason, int status)
    {
        Failure = Enum.IsDefined(reason) ? reason : ExternalSignInFailure.Refused;
        ProviderName = providers.Find(provider)?.DisplayName ?? ProviderName;
        Response.StatusCode = status;
        return Page();
    }

    private string? Local(string? returnUrl) => Url.IsLocalUrl(returnUrl) ? returnUrl : null;
}

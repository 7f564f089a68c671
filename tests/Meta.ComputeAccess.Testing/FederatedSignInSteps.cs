using System.Net;

namespace Meta.ComputeAccess.Testing;

/// <summary>Sign-in through the test identity provider, as a person's browser does it: portal, provider, portal.</summary>
public static class FederatedSignInSteps
{
    /// <summary>
    /// Presses "Sign in with …" on the sign-in page, logs in at the provider as <paramref name="person"/> and brings
    /// the provider's answer back to the portal's callback; returns where the portal then sends the browser (after
    /// the OpenID Connect handler's own redirect), without following it further. Fails the test if a step answers
    /// otherwise than a browser would be led.
    /// </summary>
    public static async Task<string> SignInThroughProviderAsync(this PortalClient client, PortalFactory portal, string person,
        string provider = TestIdentityProvider.Institution, string? tamper = null, bool cancel = false, string? returnUrl = null)
    {
        var idp = portal.IdentityProvider ?? throw new InvalidOperationException("The fixture started no identity provider.");
        var start = await StartAsync(client, provider, returnUrl);
        var callback = await idp.AuthorizeAsync(start, person, tamper, cancel);
        return await FinishAsync(client, callback);
    }

    /// <summary>The portal's sign-in button: returns the provider's authorization URL the portal redirects to.</summary>
    public static async Task<Uri> StartAsync(PortalClient client, string provider, string? returnUrl = null)
    {
        var action = returnUrl is null ? "/Account/ExternalLogin" : $"/Account/ExternalLogin?returnUrl={Uri.EscapeDataString(returnUrl)}";
        using var start = await client.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["provider"] = provider }, action);
        return start.StatusCode == HttpStatusCode.Redirect && start.Headers.Location is { IsAbsoluteUri: true } authorize
            ? authorize
            : throw new InvalidOperationException($"The sign-in button answered {(int)start.StatusCode} {start.Headers.Location}, not a redirect to the provider.");
    }

    /// <summary>Brings the provider's redirect to the portal; returns the portal page it leads to.</summary>
    public static async Task<string> FinishAsync(PortalClient client, Uri callback)
    {
        using var handled = await client.GetAsync(callback.PathAndQuery);
        if (handled.StatusCode != HttpStatusCode.Redirect || handled.Headers.Location is null)
        {
            throw new InvalidOperationException($"The callback answered {(int)handled.StatusCode}, not a redirect.");
        }
        var next = handled.Headers.Location.OriginalString;
        if (!next.StartsWith("/Account/ExternalLogin?", StringComparison.Ordinal) || !next.Contains("handler=Callback", StringComparison.Ordinal))
        {
            return next;
        }
        using var callbackPage = await client.GetAsync(next);
        return callbackPage.StatusCode == HttpStatusCode.Redirect && callbackPage.Headers.Location is { } location
            ? location.OriginalString
            : next;
    }
}

/// <summary>The portal as production runs it (staff need two-factor sign-in) with the test identity provider configured.</summary>
public class FederatedPortalFactory : StaffTwoFactorPortalFactory
{
    public override async Task InitializeAsync()
    {
        await UseIdentityProviderAsync();
        await base.InitializeAsync();
    }
}

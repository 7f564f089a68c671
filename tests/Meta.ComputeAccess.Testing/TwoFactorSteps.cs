using System.Net;
using System.Text.RegularExpressions;

namespace Meta.ComputeAccess.Testing;

/// <summary>Two-factor sign-in through the real pages, as a person with an authenticator app would do it.</summary>
public static partial class TwoFactorSteps
{
    /// <summary>
    /// On a signed-in client: starts set-up, reads the shared key from the page, confirms it with a code and returns
    /// the key and the recovery codes shown once. Fails the test if any step answers otherwise.
    /// </summary>
    public static async Task<(string Key, IReadOnlyList<string> RecoveryCodes)> EnableTwoFactorAsync(this PortalClient client)
    {
        using (var setup = await client.PostFormAsync("/Account/TwoFactor", [], "/Account/TwoFactor?handler=Setup"))
        {
            Expect(setup, HttpStatusCode.Redirect, "set-up");
        }
        var key = SharedKey(await client.GetPageAsync("/Account/TwoFactor"))
            ?? throw new InvalidOperationException("The set-up page shows no shared key");
        using var enable = await client.PostFormAsync("/Account/TwoFactor", new Dictionary<string, string> { ["Input.Code"] = Totp.Code(key) }, "/Account/TwoFactor?handler=Enable");
        Expect(enable, HttpStatusCode.OK, "enable");
        var codes = RecoveryCodes(await enable.Content.ReadAsStringAsync());
        if (codes.Count == 0)
        {
            throw new InvalidOperationException("Turning two-factor on showed no recovery codes");
        }
        return (key, codes);
    }

    /// <summary>Password, then the authenticator code; returns the final answer (a redirect on success).</summary>
    public static async Task<HttpResponseMessage> SignInWithCodeAsync(this PortalClient client, string email, string key, bool rememberBrowser = false, bool rememberMe = false)
    {
        using (var password = await client.PostFormAsync("/Account/Login", new Dictionary<string, string>
        {
            ["Input.Email"] = email,
            ["Input.Password"] = TestUsers.Password,
            ["Input.RememberMe"] = rememberMe ? "true" : "false",
        }))
        {
            Expect(password, HttpStatusCode.Redirect, "password step");
            if (password.Headers.Location?.OriginalString.StartsWith("/Account/LoginWith2fa", StringComparison.Ordinal) != true)
            {
                throw new InvalidOperationException($"The password step went to {password.Headers.Location}, not to the code step");
            }
            return await client.PostFormAsync(password.Headers.Location.OriginalString, new Dictionary<string, string>
            {
                ["Input.Code"] = Totp.Code(key),
                ["Input.RememberBrowser"] = rememberBrowser ? "true" : "false",
            });
        }
    }

    /// <summary>A staff member's client, signed in with two-factor (set up through the pages on the way).</summary>
    public static async Task<(PortalClient Client, string Key)> StaffClientAsync(this PortalFactory factory, string email, string[] roles)
    {
        await factory.CreateUserAsync(email, roles);
        var client = new PortalClient(factory);
        await client.SignInAsync(email);
        var (key, _) = await client.EnableTwoFactorAsync();
        return (client, key);
    }

    public static string? SharedKey(string html) =>
        SharedKeyPattern().Match(html) is { Success: true } m ? m.Groups[1].Value : null;

    public static IReadOnlyList<string> RecoveryCodes(string html)
    {
        var list = RecoveryListPattern().Match(html);
        return list.Success ? [.. ItemPattern().Matches(list.Groups[1].Value).Select(m => m.Groups[1].Value)] : [];
    }

    private static void Expect(HttpResponseMessage response, HttpStatusCode status, string step)
    {
        if (response.StatusCode != status)
        {
            throw new InvalidOperationException($"Two-factor {step} answered {(int)response.StatusCode} {response.Headers.Location}");
        }
    }

    [GeneratedRegex("id=\"shared-key\">([a-z2-7 ]+)</code>")]
    private static partial Regex SharedKeyPattern();

    [GeneratedRegex("id=\"recovery-codes\">(.*?)</ul>", RegexOptions.Singleline)]
    private static partial Regex RecoveryListPattern();

    [GeneratedRegex("<li>([A-Z0-9-]+)</li>")]
    private static partial Regex ItemPattern();
}

/// <summary>The portal as production runs it: Admin and Reviewer pages need two-factor sign-in.</summary>
public class StaffTwoFactorPortalFactory : PortalFactory
{
    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Security:RequireTwoFactorForStaff", "true");
    }
}

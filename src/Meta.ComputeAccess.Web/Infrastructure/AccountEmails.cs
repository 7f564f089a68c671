using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Infrastructure;

/// <summary>
/// Account mail (confirmation, password reset), queued in the outbox. Links use the configured public base URL,
/// never the request's Host header, so a forged Host cannot redirect a reset link to an attacker.
/// </summary>
public sealed class AccountEmails(UserManager<PortalUser> users, EmailOutbox outbox, IOptions<SmtpOptions> options)
{
    public const string ConfirmKind = "account.confirm";
    public const string ResetKind = "account.reset";

    public async Task QueueConfirmationAsync(PortalUser user)
    {
        var link = await ConfirmationLinkAsync(user);
        outbox.Queue(ConfirmKind, user.Id, user.Email!, "Confirm your Meta Compute Access account",
            $"""
            Hello {user.FullName},

            Please confirm your email address to finish creating your Meta Compute Access account:

            {link}

            The link is valid for 48 hours. If you did not register, ignore this message and the account will be removed.
            """);
    }

    public async Task<string> ConfirmationLinkAsync(PortalUser user)
    {
        var code = WebEncoders.Base64UrlEncode(System.Text.Encoding.UTF8.GetBytes(await users.GenerateEmailConfirmationTokenAsync(user)));
        return Link("/Account/ConfirmEmail", user.Id, code);
    }

    public async Task QueuePasswordResetAsync(PortalUser user)
    {
        var link = await PasswordResetLinkAsync(user);
        outbox.Queue(ResetKind, user.Id, user.Email!, "Reset your Meta Compute Access password",
            $"""
            Hello {user.FullName},

            Someone (hopefully you) asked to reset the password of your Meta Compute Access account. Choose a new password here:

            {link}

            The link is valid for 48 hours and works once. If you did not ask for this, ignore this message: your password is unchanged.
            """);
    }

    /// <summary>A one-time link to choose a password; it stops working once used, since using it changes the security stamp.</summary>
    public async Task<string> PasswordResetLinkAsync(PortalUser user)
    {
        var code = WebEncoders.Base64UrlEncode(System.Text.Encoding.UTF8.GetBytes(await users.GeneratePasswordResetTokenAsync(user)));
        return Link("/Account/ResetPassword", user.Id, code);
    }

    private string Link(string path, Guid userId, string code) =>
        QueryHelpers.AddQueryString(options.Value.PublicBaseUrl.TrimEnd('/') + path, new Dictionary<string, string?>
        {
            ["userId"] = userId.ToString(),
            ["code"] = code,
        });
}

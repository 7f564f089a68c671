using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>
/// Account mail (confirmation, password reset, a registration attempt on an existing address), sent through the
/// <see cref="Notifier"/> from the account.* templates: security mail, always immediate. Links use the configured public
/// base URL, never the request's Host header, so a forged Host cannot redirect a reset link to an attacker.
/// </summary>
public sealed class AccountEmails(UserManager<PortalUser> users, Notifier notifier) : IAccountMail
{
    public const string ConfirmKind = NotificationKinds.AccountConfirm;
    public const string ResetKind = NotificationKinds.AccountReset;

    public async Task QueueConfirmationAsync(PortalUser user) =>
        await notifier.NotifyAsync(Recipient(user), ConfirmKind, "your account", await ConfirmationLinkAsync(user));

    public async Task<string> ConfirmationLinkAsync(PortalUser user)
    {
        var code = WebEncoders.Base64UrlEncode(System.Text.Encoding.UTF8.GetBytes(await users.GenerateEmailConfirmationTokenAsync(user)));
        return Link("/Account/ConfirmEmail", user.Id, code);
    }

    /// <summary>Tells the owner of an address that someone tried to register with it; the link leads to signing in.</summary>
    public Task QueueRegistrationAttemptAsync(PortalUser owner) =>
        notifier.NotifyAsync(Recipient(owner), NotificationKinds.AccountRegistrationAttempt, "your account", "/Account/Login");

    public async Task QueuePasswordResetAsync(PortalUser user) =>
        await notifier.NotifyAsync(Recipient(user), ResetKind, "your password", await PasswordResetLinkAsync(user));

    /// <summary>A one-time link to choose a password; it stops working once used, since using it changes the security stamp.</summary>
    public async Task<string> PasswordResetLinkAsync(PortalUser user)
    {
        var code = WebEncoders.Base64UrlEncode(System.Text.Encoding.UTF8.GetBytes(await users.GeneratePasswordResetTokenAsync(user)));
        return Link("/Account/ResetPassword", user.Id, code);
    }

    /// <summary>
    /// A link that links <paramref name="login"/> to the account; its token is bound to that one sign-in and the page
    /// takes it only in the browser that holds the sign-in.
    /// </summary>
    public async Task QueueLinkRequestAsync(PortalUser user, UserLoginInfo login)
    {
        var token = await users.GenerateUserTokenAsync(user, TokenOptions.DefaultProvider, FederatedAccounts.LinkPurpose(login));
        var code = WebEncoders.Base64UrlEncode(System.Text.Encoding.UTF8.GetBytes(token));
        await notifier.NotifyAsync(Recipient(user), NotificationKinds.AccountLink, "your account", Link("/Account/LinkLogin?handler=Mail", user.Id, code),
            new Dictionary<string, string> { ["provider"] = login.ProviderDisplayName ?? login.LoginProvider });
    }

    private static NotificationRecipient Recipient(PortalUser user) =>
        new(user.Id, user.Email ?? throw new InvalidOperationException("The account has no email address."), user.FullName);

    private string Link(string path, Guid userId, string code) =>
        notifier.AbsoluteUrl(QueryHelpers.AddQueryString(path, new Dictionary<string, string?>
        {
            ["userId"] = userId.ToString(),
            ["code"] = code,
        }));
}

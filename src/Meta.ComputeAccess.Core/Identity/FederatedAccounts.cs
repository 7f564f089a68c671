using System.Globalization;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Microsoft.AspNetCore.Identity;

namespace Meta.ComputeAccess.Identity;

/// <summary>
/// Accounts and identity providers (institutions through OpenID Connect, ORCID): a first sign-in creates an account
/// from what the provider vouches for, a provider sign-in is linked to an existing account only after the person
/// proved the account is theirs (<see cref="LinkProof"/>), and a linked sign-in can be removed unless it is the last
/// way into the account. Each method saves its change, its audit entry and its mail in one transaction.
/// </summary>
public sealed class FederatedAccounts(UserManager<PortalUser> users, PortalDbContext db, AuditLog audit, Notifier notifier, IAccountMail mail, TimeProvider clock)
{
    public const string Conflict = "Someone else changed this account at the same moment; start again.";

    /// <summary>The purpose a mailed link's token is bound to: this one provider sign-in, nothing else.</summary>
    public static string LinkPurpose(UserLoginInfo login) => $"link-login:{login.LoginProvider}:{login.ProviderKey}";

    /// <summary>The account this provider sign-in is linked to, if any.</summary>
    public Task<PortalUser?> FindLinkedAsync(ProviderIdentity who) => users.FindByLoginAsync(who.Provider, who.ProviderKey);

    /// <summary>
    /// The account an address the provider vouches for belongs to: that account is only ever linked with a proof,
    /// never taken over by the sign-in.
    /// </summary>
    public async Task<PortalUser?> FindByVerifiedEmailAsync(ProviderIdentity who) =>
        who.VerifiedEmail is { } email ? await users.FindByEmailAsync(email) : null;

    /// <summary>
    /// Creates the account of a person signing in through a provider for the first time, linked to that sign-in. The
    /// address is the provider's when it vouches for it (then confirmed at once), otherwise the typed one, which gets a
    /// confirmation link. An address that belongs to an account already gets a link mail instead (<see cref="SignUpOutcome.LinkMailed"/>).
    /// </summary>
    public Task<FederatedSignUp> SignUpAsync(ProviderIdentity who, NewAccountDetails details, CancellationToken cancellationToken) =>
        InTransactionAsync(async () =>
        {
            if (await FindLinkedAsync(who) is not null)
            {
                throw new DomainException($"This {who.ProviderName} sign-in already has an account: sign in with it.");
            }
            var email = who.VerifiedEmail ?? details.Email.Trim();
            if (await users.FindByEmailAsync(email) is { } existing)
            {
                if (who.VerifiedEmail is not null)
                {
                    throw new DomainException($"An account with this address exists already: link your {who.ProviderName} sign-in to it instead.");
                }
                await mail.QueueLinkRequestAsync(existing, who.Login);
                return new FederatedSignUp(SignUpOutcome.LinkMailed, existing.Id);
            }
            var user = new PortalUser
            {
                UserName = email,
                Email = email,
                FullName = details.FullName.Trim(),
                Country = details.Country.ToUpperInvariant(),
                TimeZoneId = details.TimeZoneId,
                ResearchFields = [.. details.ResearchFields.Distinct(StringComparer.Ordinal)],
                CreatedAt = clock.GetUtcNow(),
            };
            user.ChangeInstitution(details.Institution);
            user.ChangeOrcidId(details.OrcidId);
            // The institution counts as the provider's only if the person kept it as the provider sent it.
            var institution = who.Institution is { } asserted && asserted.Trim() == user.Institution ? asserted : null;
            user.AcceptVerified(who.OrcidId, institution, who.Affiliations);
            if (who.VerifiedEmail is not null)
            {
                user.MarkEmailConfirmed();
            }
            (await users.CreateAsync(user)).ThrowIfFailed();
            (await users.AddLoginAsync(user, who.Login)).ThrowIfFailed();
            (await users.AddToRoleAsync(user, Roles.Researcher)).ThrowIfFailed();
            audit.Record(user.Id, "account.created", "user", user.Id.ToString(), $"Created the account by signing in with {who.ProviderName}");
            if (!user.EmailConfirmed)
            {
                await mail.QueueConfirmationAsync(user);
            }
            return new FederatedSignUp(user.EmailConfirmed ? SignUpOutcome.Ready : SignUpOutcome.ConfirmationMailed, user.Id);
        }, cancellationToken);

    /// <summary>
    /// Links a provider sign-in to an account whose owner proved it is theirs; the account takes what the provider
    /// vouches for (ORCID iD, institution, affiliations) and its owner is told. A proof by mail also confirms the
    /// address and removes a password set before it was confirmed: whoever set it never showed they read that mailbox.
    /// </summary>
    public Task LinkAsync(Guid userId, ProviderIdentity who, LinkProof proof, CancellationToken cancellationToken) =>
        InTransactionAsync(async () =>
        {
            var user = await users.FindByIdAsync(userId.ToString()) ?? throw new DomainException("No such account.");
            await LinkAsync(user, who, proof);
            return true;
        }, cancellationToken);

    /// <summary>
    /// Links a provider sign-in after its owner opened the mailed link (<see cref="IAccountMail.QueueLinkRequestAsync"/>)
    /// in the browser that holds that sign-in.
    /// </summary>
    public Task LinkByMailAsync(Guid userId, ProviderIdentity who, string token, CancellationToken cancellationToken) =>
        InTransactionAsync(async () =>
        {
            var user = await users.FindByIdAsync(userId.ToString());
            if (user is null || !await users.VerifyUserTokenAsync(user, TokenOptions.DefaultProvider, LinkPurpose(who.Login), token))
            {
                throw new DomainException($"This link does not fit your {who.ProviderName} sign-in, or it expired. Sign in with {who.ProviderName} again and ask for a new one.");
            }
            await LinkAsync(user, who, LinkProof.Mailbox);
            return true;
        }, cancellationToken);

    /// <summary>Mails the account's owner a link that links this provider sign-in (opened in the same browser).</summary>
    public Task RequestLinkByMailAsync(Guid userId, ProviderIdentity who, CancellationToken cancellationToken) =>
        InTransactionAsync(async () =>
        {
            var user = await users.FindByIdAsync(userId.ToString()) ?? throw new DomainException("No such account.");
            await mail.QueueLinkRequestAsync(user, who.Login);
            return true;
        }, cancellationToken);

    /// <summary>Removes a linked sign-in; the last way into an account (no password, one sign-in) stays.</summary>
    public Task UnlinkAsync(Guid userId, string provider, string providerKey, CancellationToken cancellationToken) =>
        InTransactionAsync(async () =>
        {
            var user = await users.FindByIdAsync(userId.ToString()) ?? throw new DomainException("No such account.");
            var logins = await users.GetLoginsAsync(user);
            var login = logins.FirstOrDefault(l => l.LoginProvider == provider && l.ProviderKey == providerKey)
                ?? throw new DomainException("That sign-in is not linked to your account.");
            if (logins.Count == 1 && !await users.HasPasswordAsync(user))
            {
                throw new DomainException($"{login.ProviderDisplayName ?? provider} is the only way into your account: link another sign-in, or set a password with “Forgot your password?”, before removing it.");
            }
            // Identity changes the security stamp: other sessions end at their next check.
            (await users.RemoveLoginAsync(user, provider, providerKey)).ThrowIfFailed();
            audit.Record(user.Id, "account.login-removed", "user", user.Id.ToString(), $"Removed the sign-in with {login.ProviderDisplayName ?? provider}");
            return true;
        }, cancellationToken);

    private async Task LinkAsync(PortalUser user, ProviderIdentity who, LinkProof proof)
    {
        if (await FindLinkedAsync(who) is { } owner)
        {
            if (owner.Id == user.Id)
            {
                return;
            }
            throw new DomainException($"This {who.ProviderName} sign-in is linked to another account already.");
        }
        if ((await users.GetLoginsAsync(user)).Any(l => l.LoginProvider == who.Provider))
        {
            throw new DomainException($"Your account is linked to another {who.ProviderName} sign-in already: remove that one on the security page first.");
        }
        (await users.AddLoginAsync(user, who.Login)).ThrowIfFailed();
        user.AcceptVerified(who.OrcidId, who.Institution, who.Affiliations);
        if (proof == LinkProof.Mailbox && !user.EmailConfirmed)
        {
            user.MarkEmailConfirmed();
            if (await users.HasPasswordAsync(user))
            {
                (await users.RemovePasswordAsync(user)).ThrowIfFailed();
            }
        }
        (await users.UpdateAsync(user)).ThrowIfFailed();
        (await users.UpdateSecurityStampAsync(user)).ThrowIfFailed();
        audit.Record(user.Id, "account.login-linked", "user", user.Id.ToString(), $"Linked a sign-in with {who.ProviderName} (proof: {proof})");
        await notifier.NotifyAsync(new NotificationRecipient(user.Id, user.Email ?? "", user.FullName), NotificationKinds.SecurityLoginLinked,
            "your account", "/Account/Security", new Dictionary<string, string>
            {
                ["provider"] = who.ProviderName,
                ["when"] = clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            });
    }

    /// <summary>UserManager saves each of its steps; the transaction makes them, the audit entry and the mail one change.</summary>
    private Task<T> InTransactionAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken) =>
        RacingSaves.RefusingLostRacesAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var result = await work();
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }, Conflict);
}

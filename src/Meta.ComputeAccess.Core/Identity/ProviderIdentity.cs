using Microsoft.AspNetCore.Identity;

namespace Meta.ComputeAccess.Identity;

/// <summary>
/// What an identity provider said about the person signing in through it, read through the provider's claim map.
/// Only the signed-in person's own provider sign-in produces one; nothing here comes from a form.
/// </summary>
/// <param name="Provider">The provider's configured name, stored with each linked sign-in.</param>
/// <param name="ProviderKey">The provider's stable id of the person (<c>sub</c>).</param>
/// <param name="ProviderName">The name people see ("ORCID", "your institution").</param>
/// <param name="EmailVerified">The provider asserted <c>email_verified</c> for <paramref name="Email"/>.</param>
/// <param name="OrcidId">An ORCID iD the provider vouches for (ORCID's own <c>sub</c>), canonical form.</param>
public sealed record ProviderIdentity(
    string Provider,
    string ProviderKey,
    string ProviderName,
    string? Email,
    bool EmailVerified,
    string? FullName,
    string? Institution,
    IReadOnlyList<string> Affiliations,
    string? OrcidId)
{
    public UserLoginInfo Login => new(Provider, ProviderKey, ProviderName);

    /// <summary>The address the provider vouches for, if any.</summary>
    public string? VerifiedEmail => EmailVerified && !string.IsNullOrWhiteSpace(Email) ? Email.Trim() : null;
}

/// <summary>What the first-sign-in form adds to a provider's claims (<paramref name="OrcidId"/> typed, canonical form or null).</summary>
public sealed record NewAccountDetails(string Email, string FullName, string Institution, string Country, string TimeZoneId, IReadOnlyList<string> ResearchFields, string? OrcidId);

/// <summary>How a first sign-in through a provider ended.</summary>
public enum SignUpOutcome
{
    /// <summary>The account exists and its address is confirmed: the person can be signed in.</summary>
    Ready,

    /// <summary>The account exists; a confirmation link went to its address (the provider did not vouch for it).</summary>
    ConfirmationMailed,

    /// <summary>
    /// The address belongs to an existing account: its owner got a link that links this sign-in when opened in this
    /// browser. Shown to the person exactly like <see cref="ConfirmationMailed"/>, so the form tells nobody who has an account.
    /// </summary>
    LinkMailed,
}

public sealed record FederatedSignUp(SignUpOutcome Outcome, Guid UserId);

/// <summary>How a person proved that an existing account is theirs before a provider sign-in was linked to it.</summary>
public enum LinkProof
{
    /// <summary>Signed in to the account in this session (the security page).</summary>
    SignedIn,

    /// <summary>Entered the account's password during the provider sign-in.</summary>
    Password,

    /// <summary>Opened a link mailed to the account's address, in the browser that signed in through the provider.</summary>
    Mailbox,
}

/// <summary>Account mail the identity module queues in its unit of work; the web host builds the links.</summary>
public interface IAccountMail
{
    /// <summary>A link that confirms the account's address.</summary>
    Task QueueConfirmationAsync(PortalUser user);

    /// <summary>A link that links <paramref name="login"/> to the account, bound to its purpose by a one-time token.</summary>
    Task QueueLinkRequestAsync(PortalUser user, UserLoginInfo login);
}

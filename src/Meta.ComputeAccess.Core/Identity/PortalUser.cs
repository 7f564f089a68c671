using Microsoft.AspNetCore.Identity;

namespace Meta.ComputeAccess.Identity;

/// <summary>A person who signs in: researcher, reviewer or admin (roles say which).</summary>
public sealed class PortalUser : IdentityUser<Guid>
{
    public string FullName { get; set; } = "";

    public string Institution { get; set; } = "";

    /// <summary>
    /// The institution was asserted by the person's identity provider (<c>idp_name</c> and the like), not typed.
    /// Conflict detection and screening say so; changing the institution by hand drops it.
    /// </summary>
    public bool InstitutionVerified { get; private set; }

    /// <summary>
    /// <c>eduPersonScopedAffiliation</c> values from the identity provider (<c>faculty@example.edu</c>): what the person
    /// is at which institution, as the institution says. Empty for accounts that never signed in through one.
    /// </summary>
    public List<string> VerifiedAffiliations { get; private set; } = [];

    /// <summary>ISO 3166-1 alpha-2 code.</summary>
    public string Country { get; set; } = "";

    /// <summary>ORCID iD in its canonical dashed form (0000-0002-1825-0097), checksum validated.</summary>
    public string? OrcidId { get; set; }

    /// <summary>The ORCID iD came from a sign-in through ORCID (ORCID vouches for it); a typed one is not verified.</summary>
    public bool OrcidIdVerified { get; private set; }

    /// <summary>The domain of the confirmed email address; null until the address is confirmed.</summary>
    public string? EmailDomain { get; set; }

    /// <summary>IANA time zone in which the user enters and reads dates (call deadlines, for example).</summary>
    public string TimeZoneId { get; set; } = "UTC";

    /// <summary>Research fields the user works in (from <c>ResearchFields</c>); reviewers' expertise starts here.</summary>
    public List<string> ResearchFields { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastSignInAt { get; set; }

    /// <summary>When the person closed the account (docs/compliance.md, "Your data"); null while it is open.</summary>
    public DateTimeOffset? ClosedAt { get; private set; }

    /// <summary>The name a closed account goes by wherever it is still referenced (reviews, decisions, the ledger, the audit log).</summary>
    public static string FormerUserName(long number) => $"Former user {number}";

    /// <summary>
    /// Erases the account's personal data in place: the name becomes <see cref="FormerUserName"/>, the address a
    /// reserved one that can never receive mail (<c>.invalid</c>, RFC 2606), so the real address is free for a new
    /// account; no password, no second factor, locked for good. The row stays, so what the person did keeps its author.
    /// </summary>
    public void Close(long number, DateTimeOffset now)
    {
        if (ClosedAt is not null)
        {
            throw new DomainException("This account is already closed.");
        }
        var handle = $"former-user-{number}";
        FullName = FormerUserName(number);
        UserName = handle;
        NormalizedUserName = handle.ToUpperInvariant();
        Email = $"{handle}@closed.invalid";
        NormalizedEmail = Email.ToUpperInvariant();
        EmailConfirmed = false;
        EmailDomain = null;
        PasswordHash = null;
        PhoneNumber = null;
        PhoneNumberConfirmed = false;
        TwoFactorEnabled = false;
        SecurityStamp = Guid.NewGuid().ToString("N");
        LockoutEnabled = true;
        LockoutEnd = DateTimeOffset.MaxValue;
        AccessFailedCount = 0;
        Institution = "";
        InstitutionVerified = false;
        VerifiedAffiliations = [];
        Country = "";
        OrcidId = null;
        OrcidIdVerified = false;
        ResearchFields = [];
        TimeZoneId = "UTC";
        LastSignInAt = null;
        ClosedAt = now;
    }

    /// <summary>The person typed an institution: a different one than before is no longer the provider's.</summary>
    public void ChangeInstitution(string institution)
    {
        var typed = institution.Trim();
        if (typed != Institution)
        {
            Institution = typed;
            InstitutionVerified = false;
        }
    }

    /// <summary>The person typed an ORCID iD (canonical form, or null): a different one than before is no longer verified.</summary>
    public void ChangeOrcidId(string? orcidId)
    {
        if (orcidId != OrcidId)
        {
            OrcidId = orcidId;
            OrcidIdVerified = false;
        }
    }

    /// <summary>
    /// Takes what an identity provider vouches for: its ORCID iD (from a sign-in through ORCID), its institution and
    /// the person's affiliations there. What the provider did not send is left as it was.
    /// </summary>
    public void AcceptVerified(string? orcidId, string? institution, IReadOnlyCollection<string> affiliations)
    {
        if (Orcid.TryNormalize(orcidId, out var orcid))
        {
            OrcidId = orcid;
            OrcidIdVerified = true;
        }
        if (!string.IsNullOrWhiteSpace(institution))
        {
            Institution = institution.Trim();
            InstitutionVerified = true;
        }
        if (affiliations.Count > 0)
        {
            VerifiedAffiliations = [.. affiliations];
        }
    }

    /// <summary>Records that <see cref="IdentityUser{TKey}.Email"/> was confirmed, deriving the domain from it.</summary>
    public void MarkEmailConfirmed()
    {
        EmailConfirmed = true;
        EmailDomain = DomainOf(Email);
    }

    /// <summary>
    /// The domain part of an address, lower-cased, without a trailing dot; null when the address has none or it is not a
    /// dotted domain (<c>a@localhost</c>). The one reading of an address's domain: the profile shows it and conflict
    /// detection compares it.
    /// </summary>
    public static string? DomainOf(string? email)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            return null;
        }
        var at = email.LastIndexOf('@');
        if (at < 0 || at == email.Length - 1)
        {
            return null;
        }
        var domain = email[(at + 1)..].Trim().TrimEnd('.').ToLowerInvariant();
        return domain.Length == 0 || !domain.Contains('.', StringComparison.Ordinal) ? null : domain;
    }
}

public sealed class PortalRole : IdentityRole<Guid>
{
    public PortalRole()
    {
    }

    public PortalRole(string name)
        : base(name)
    {
        NormalizedName = name.ToUpperInvariant();
    }
}

namespace Meta.ComputeAccess.Compliance;

public enum ComplianceHitKind
{
    /// <summary>A person's or institution's name is like an entry of a screening list.</summary>
    ListMatch,

    /// <summary>A team member is in a country the program or the call restricts or embargoes.</summary>
    CountryRule,
}

/// <summary>Who or what was screened.</summary>
public enum ScreenedParty
{
    Person,
    Institution,
}

public enum ComplianceHitStatus
{
    /// <summary>Waits for a compliance officer; awards of the proposals it concerns are held.</summary>
    Open,

    /// <summary>Looked at and found not to apply (a different person, a restricted country reviewed): no longer holds anything.</summary>
    Cleared,

    /// <summary>Confirmed: the proposals it concerns cannot be awarded, and their active allocations were suspended.</summary>
    Blocked,
}

/// <summary>How a country is treated by the program's or a call's country rules.</summary>
public enum CountryLevel
{
    Open,

    /// <summary>A member there needs a compliance officer's review before an award.</summary>
    Restricted,

    /// <summary>A team with a member there cannot submit, nor be awarded.</summary>
    Embargoed,
}

/// <summary>
/// Something screening found that a compliance officer must look at: a name like a list entry, or a member in a
/// restricted or embargoed country. One hit per party and finding, however many proposals it concerns (those are its
/// <see cref="ComplianceHitLink"/>s); once cleared it stays cleared for that same finding, so a re-screen does not
/// raise it again. Inserted by <see cref="PartyScreening"/> (idempotently, on <see cref="DedupKey"/>).
/// </summary>
public sealed class ComplianceHit
{
    public const int MaxReasonLength = 2_000;

    public Guid Id { get; private set; }

    /// <summary>What makes two findings the same: the kind, the party, and the list entry or the country rule.</summary>
    public string DedupKey { get; private set; } = "";

    public ComplianceHitKind Kind { get; private set; }

    public ScreenedParty Party { get; private set; }

    /// <summary>The person screened (for an institution, the member whose institution it is, as first found).</summary>
    public Guid? UserId { get; private set; }

    /// <summary>The name or institution as screened.</summary>
    public string PartyName { get; private set; } = "";

    /// <summary>The list version and entry matched (list matches).</summary>
    public Guid? VersionId { get; private set; }

    public int? EntryOrdinal { get; private set; }

    public string? ListKey { get; private set; }

    public string? EntryId { get; private set; }

    /// <summary>The entry's name (or alternate name) that scored best.</summary>
    public string? MatchedName { get; private set; }

    /// <summary>0–100, from <see cref="NameMatcher"/>.</summary>
    public int? Score { get; private set; }

    /// <summary>The member's country (country rules).</summary>
    public string? Country { get; private set; }

    public CountryLevel? CountryLevel { get; private set; }

    /// <summary>Which rule: "program" or the call's title.</summary>
    public string? Rule { get; private set; }

    public ComplianceHitStatus Status { get; private set; }

    public DateTimeOffset FoundAt { get; private set; }

    public DateTimeOffset? ResolvedAt { get; private set; }

    public Guid? ResolvedByUserId { get; private set; }

    public string Resolution { get; private set; } = "";

    /// <summary>Two officers deciding the same hit at once: the second is refused, not silently overwritten.</summary>
    public uint Version { get; private set; }

    private ComplianceHit()
    {
    }

    /// <summary>The person or institution is not the listed party, or the restricted country was reviewed and accepted.</summary>
    public void Clear(Guid actor, string reason, DateTimeOffset now)
    {
        if (CountryLevel == Compliance.CountryLevel.Embargoed)
        {
            throw new DomainException("An embargo cannot be cleared: it holds while the country rule stands. Change the country rule if it no longer applies, or block.");
        }
        Resolve(ComplianceHitStatus.Cleared, actor, reason, now);
    }

    /// <summary>The finding is confirmed: what it concerns cannot be awarded.</summary>
    public void Block(Guid actor, string reason, DateTimeOffset now) => Resolve(ComplianceHitStatus.Blocked, actor, reason, now);

    private void Resolve(ComplianceHitStatus status, Guid actor, string reason, DateTimeOffset now)
    {
        reason = (reason ?? "").Trim();
        if (reason.Length < 5)
        {
            throw new DomainException("Give the reason for the decision (at least a few words): it is kept with the hit and in the audit log.", new Dictionary<string, string> { ["Reason"] = "Give a reason." });
        }
        if (reason.Length > MaxReasonLength || PlainText.HasControlOutsideLines(reason))
        {
            throw new DomainException($"The reason is plain text of at most {MaxReasonLength:N0} characters.");
        }
        if (Status == status)
        {
            throw new DomainException($"This hit is already {status.ToString().ToLowerInvariant()}.");
        }
        Status = status;
        Resolution = reason;
        ResolvedAt = now;
        ResolvedByUserId = actor;
    }

    /// <summary>The key of a list match of a person (by account and name) or of an institution (by name) against one list entry.</summary>
    internal static string ListMatchKey(ScreenedParty party, Guid? userId, string normalizedName, string listKey, string entryId) =>
        party == ScreenedParty.Person
            ? $"list|person|{userId}|{normalizedName}|{listKey}|{entryId}"
            : $"list|institution|{normalizedName}|{listKey}|{entryId}";

    /// <summary>The key of a country finding: the person, the country and how it is ruled (an embargo is a new finding after a restriction was cleared).</summary>
    internal static string CountryKey(Guid userId, string country, CountryLevel level) => $"country|{level}|{userId}|{country}";
}

/// <summary>A proposal or an allocation a hit concerns (one of the two ids is set).</summary>
public sealed class ComplianceHitLink
{
    public long Id { get; private set; }

    public Guid HitId { get; private set; }

    public Guid? ProposalId { get; private set; }

    public Guid? AllocationId { get; private set; }

    public DateTimeOffset LinkedAt { get; private set; }

    private ComplianceHitLink()
    {
    }
}

/// <summary>A country rule of the program (every call); calls add their own on top (<c>Call.EmbargoedCountries</c>, <c>RestrictedCountries</c>).</summary>
public sealed class CountryRule
{
    public string Country { get; private set; } = "";

    public CountryLevel Level { get; private set; }

    public DateTimeOffset ChangedAt { get; private set; }

    public Guid ChangedByUserId { get; private set; }

    private CountryRule()
    {
    }

    internal static CountryRule Create(string country, CountryLevel level, Guid actor, DateTimeOffset now) =>
        new() { Country = country, Level = level, ChangedAt = now, ChangedByUserId = actor };

    internal void Change(CountryLevel level, Guid actor, DateTimeOffset now)
    {
        Level = level;
        ChangedAt = now;
        ChangedByUserId = actor;
    }
}

using System.ComponentModel.DataAnnotations;
namespace Meta.ComputeAccess.Review;

/// <summary>Where a conflict came from: one of the detected <see cref="ConflictType"/>s, or the reviewer's own declaration.</summary>
public enum ConflictSource
{
    TeamMember,
    SameInstitution,
    SameEmailDomain,
    DeclaredCollaborator,
    [Display(Name = "Declared by the reviewer")]
    SelfDeclared,
}

public enum ConflictStatus
{
    /// <summary>Detected or declared and in force; no admin has looked at it yet.</summary>
    Open,

    /// <summary>An admin confirmed it; in force.</summary>
    Confirmed,

    /// <summary>An admin cleared it (for example two departments of a large university); not in force.</summary>
    Cleared,
}

/// <summary>
/// A conflict of interest between a reviewer and a proposal, kept as data with its source and reason (HotCRP style).
/// Any conflict that is not cleared excludes the reviewer from the proposal everywhere (<see cref="ReviewVisibility"/>).
/// </summary>
public sealed class ReviewConflict
{
    public Guid Id { get; private set; }

    public Guid CallId { get; private set; }

    public Guid ProposalId { get; private set; }

    public Guid ReviewerUserId { get; private set; }

    public ConflictSource Source { get; private set; }

    public string Reason { get; private set; } = "";

    public ConflictStatus Status { get; private set; }

    public DateTimeOffset DetectedAt { get; private set; }

    public Guid? ResolvedByUserId { get; private set; }

    public DateTimeOffset? ResolvedAt { get; private set; }

    private ReviewConflict()
    {
    }

    public static ReviewConflict Create(Guid callId, Guid proposalId, Guid reviewer, ConflictSource source, string reason, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        CallId = callId,
        ProposalId = proposalId,
        ReviewerUserId = reviewer,
        Source = source,
        Reason = reason.Length > 500 ? reason[..500] : reason,
        Status = source == ConflictSource.SelfDeclared ? ConflictStatus.Confirmed : ConflictStatus.Open,
        DetectedAt = now,
    };

    public static ConflictSource SourceOf(ConflictType type) => type switch
    {
        ConflictType.TeamMember => ConflictSource.TeamMember,
        ConflictType.SameInstitution => ConflictSource.SameInstitution,
        ConflictType.SameEmailDomain => ConflictSource.SameEmailDomain,
        _ => ConflictSource.DeclaredCollaborator,
    };

    /// <summary>
    /// Detection stopped finding it (the team or a profile changed) before any admin looked at it: out of force,
    /// kept for the record. An admin's own decision (confirmed, cleared) is never undone by detection.
    /// </summary>
    public bool Lapsed => Status == ConflictStatus.Cleared && ResolvedByUserId is null;

    /// <summary>Refreshes the reason of a conflict detected again; a lapsed one is in force again.</summary>
    public void Redetected(string reason)
    {
        Reason = reason.Length > 500 ? reason[..500] : reason;
        if (Lapsed)
        {
            Status = ConflictStatus.Open;
            ResolvedAt = null;
        }
    }

    /// <summary>See <see cref="Lapsed"/>; only an open detected conflict lapses.</summary>
    public void Lapse(DateTimeOffset now)
    {
        if (Status != ConflictStatus.Open || Source == ConflictSource.SelfDeclared)
        {
            throw new DomainException("Only an open, detected conflict can lapse.");
        }
        Status = ConflictStatus.Cleared;
        ResolvedByUserId = null;
        ResolvedAt = now;
    }

    public void Confirm(Guid admin, DateTimeOffset now)
    {
        Status = ConflictStatus.Confirmed;
        ResolvedByUserId = admin;
        ResolvedAt = now;
    }

    public void Clear(Guid admin, DateTimeOffset now)
    {
        if (Source == ConflictSource.TeamMember)
        {
            throw new DomainException("A reviewer on the proposal's own team can never review it; this conflict cannot be cleared.");
        }
        if (Source == ConflictSource.SelfDeclared)
        {
            throw new DomainException("A conflict the reviewer declared themself is not overridden by the program.");
        }
        Status = ConflictStatus.Cleared;
        ResolvedByUserId = admin;
        ResolvedAt = now;
    }
}

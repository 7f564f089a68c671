namespace Meta.ComputeAccess.Allocations;

/// <summary>How someone came to be on an allocation.</summary>
public enum AllocationMemberRole
{
    PrincipalInvestigator,

    /// <summary>A co-investigator of the awarded proposal who had joined its team when the allocation was created.</summary>
    CoInvestigator,

    /// <summary>Someone the PI (or an admin) invited, who accepted.</summary>
    Member,
}

public enum AllocationMemberStatus
{
    /// <summary>Asked, not answered yet: may not run jobs and does not see the allocation.</summary>
    Invited,

    /// <summary>On the allocation: sees it and, with a confirmed login on a cluster, runs jobs under its account there.</summary>
    Active,

    Declined,
    Removed,
}

/// <summary>
/// One person on an allocation and where they stand. A person has one row per allocation, changed by the allocation's
/// membership methods; every change also adds an <see cref="AllocationMemberEvent"/> (append-only), so the history says
/// who was a member when.
/// </summary>
public sealed class AllocationMember
{
    public Guid Id { get; private set; }

    public Guid AllocationId { get; private set; }

    public Guid UserId { get; private set; }

    public AllocationMemberRole Role { get; private set; }

    public AllocationMemberStatus Status { get; private set; }

    /// <summary>When the current status began.</summary>
    public DateTimeOffset Since { get; private set; }

    public bool IsActive => Status == AllocationMemberStatus.Active;

    private AllocationMember()
    {
    }

    internal AllocationMember(Guid allocationId, Guid userId, AllocationMemberRole role, AllocationMemberStatus status, DateTimeOffset now)
    {
        Id = Guid.CreateVersion7(now);
        AllocationId = allocationId;
        UserId = userId;
        Role = role;
        Status = status;
        Since = now;
    }

    internal void MoveTo(AllocationMemberStatus status, DateTimeOffset now)
    {
        Status = status;
        Since = now;
    }

    /// <summary>Invited again after declining or being removed: from then on they count as someone the PI added.</summary>
    internal void InviteAgain(DateTimeOffset now)
    {
        Role = Role == AllocationMemberRole.PrincipalInvestigator ? Role : AllocationMemberRole.Member;
        MoveTo(AllocationMemberStatus.Invited, now);
    }
}

/// <summary>A change of an allocation's membership (append-only: the database refuses UPDATE and DELETE).</summary>
public sealed class AllocationMemberEvent
{
    public long Id { get; private set; }

    public Guid AllocationId { get; private set; }

    public Guid UserId { get; private set; }

    public DateTimeOffset At { get; private set; }

    /// <summary>Who made the change; null for the system (an allocation created from an award).</summary>
    public Guid? ActorUserId { get; private set; }

    /// <summary><c>added</c>, <c>invited</c>, <c>accepted</c>, <c>declined</c> or <c>removed</c>.</summary>
    public string Action { get; private set; } = "";

    public string Detail { get; private set; } = "";

    private AllocationMemberEvent()
    {
    }

    internal AllocationMemberEvent(Guid allocationId, Guid userId, DateTimeOffset at, Guid? actor, string action, string detail)
    {
        AllocationId = allocationId;
        UserId = userId;
        At = at;
        ActorUserId = actor;
        Action = action;
        Detail = detail.Length > 500 ? detail[..500] : detail;
    }
}

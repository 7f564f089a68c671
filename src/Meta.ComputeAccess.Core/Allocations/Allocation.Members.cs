namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// Who is on the allocation: its PI and the awarded proposal's co-investigators from the start, others the PI (or an
/// admin) invites and who accept, like a proposal team. Active members see the allocation and, with a confirmed login on
/// a cluster, run jobs under its account there (the clusters' plan lists them). Each change adds a membership event.
/// </summary>
public sealed partial class Allocation
{
    /// <summary>Members are managed by the PI and by admins; co-investigators and members see who is on it.</summary>
    public bool MayManageMembers(Viewer viewer) => viewer.IsAdmin || viewer.UserId == PiUserId;

    /// <summary>Someone on the allocation from its creation (the PI, the proposal's co-investigators): active at once.</summary>
    internal void AddMember(Guid userId, AllocationMemberRole role, Guid? actor, DateTimeOffset now, string detail)
    {
        if (members.Any(m => m.UserId == userId))
        {
            return;
        }
        members.Add(new AllocationMember(Id, userId, role, AllocationMemberStatus.Active, now));
        RecordMember(userId, now, actor, "added", detail);
    }

    /// <summary>The PI or an admin asks <paramref name="userId"/> to join; they become a member once they accept.</summary>
    public AllocationMember InviteMember(Guid userId, Guid actor, DateTimeOffset now)
    {
        if (!IsOpen)
        {
            throw new DomainException($"The allocation is {State.ToString().ToLowerInvariant()}; it takes no new members.");
        }
        var member = members.SingleOrDefault(m => m.UserId == userId);
        switch (member?.Status)
        {
            case AllocationMemberStatus.Active:
                throw new DomainException("This person is already a member of the allocation.");
            case AllocationMemberStatus.Invited:
                throw new DomainException("This person is already invited and has not answered yet.");
            case null:
                member = new AllocationMember(Id, userId, AllocationMemberRole.Member, AllocationMemberStatus.Invited, now);
                members.Add(member);
                break;
            default:
                member.InviteAgain(now);
                break;
        }
        RecordMember(userId, now, actor, "invited", "Invited to run jobs under the allocation's account");
        return member;
    }

    /// <summary>The invited person accepts: from now on they see the allocation and the clusters are told to add them.</summary>
    public void AcceptMembership(Guid userId, DateTimeOffset now)
    {
        var member = Invitation(userId);
        if (!IsOpen)
        {
            throw new DomainException($"The allocation is {State.ToString().ToLowerInvariant()}; the invitation can no longer be accepted.");
        }
        member.MoveTo(AllocationMemberStatus.Active, now);
        RecordMember(userId, now, userId, "accepted", "Accepted the invitation");
    }

    public void DeclineMembership(Guid userId, DateTimeOffset now)
    {
        Invitation(userId).MoveTo(AllocationMemberStatus.Declined, now);
        RecordMember(userId, now, userId, "declined", "Declined the invitation");
    }

    /// <summary>The PI or an admin removes a member (or withdraws an invitation); the PI stays.</summary>
    public void RemoveMember(Guid userId, Guid actor, DateTimeOffset now)
    {
        var member = members.SingleOrDefault(m => m.UserId == userId && m.Status is AllocationMemberStatus.Active or AllocationMemberStatus.Invited)
            ?? throw new DomainException("This person is not a member of the allocation (any more).");
        if (member.Role == AllocationMemberRole.PrincipalInvestigator)
        {
            throw new DomainException("The PI cannot be removed from their allocation.");
        }
        var was = member.Status;
        member.MoveTo(AllocationMemberStatus.Removed, now);
        RecordMember(userId, now, actor, "removed", was == AllocationMemberStatus.Invited ? "Invitation withdrawn" : "Removed from the allocation");
    }

    private AllocationMember Invitation(Guid userId) =>
        members.SingleOrDefault(m => m.UserId == userId && m.Status == AllocationMemberStatus.Invited)
            ?? throw new DomainException("There is no open invitation to this allocation for you (withdrawn, or already answered).");

    private void RecordMember(Guid userId, DateTimeOffset now, Guid? actor, string action, string detail) =>
        memberEvents.Add(new AllocationMemberEvent(Id, userId, now, actor, action, detail));
}

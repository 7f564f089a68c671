namespace Meta.ComputeAccess.Allocations;

/// <summary>What became of an advance.</summary>
public enum AdvanceStatus
{
    /// <summary>The renewal is not decided yet.</summary>
    Outstanding,

    /// <summary>Taken back in full from the renewal's award.</summary>
    Deducted,

    /// <summary>The renewal was declined (or its award declined, or too small to take it all back): what is left is a debt the admins see.</summary>
    Debt,
}

/// <summary>
/// Hours an admin gave an open allocation ahead of the decision on its PI's renewal proposal, so work does not stop,
/// capped at a share of what the renewal requests on the cluster (<see cref="AllocationOptions.AdvanceCap"/>). The
/// hours are an <see cref="LedgerEntryKind.Advance"/> entry on the allocation; when the renewal's award is accepted they
/// are deducted from it (<see cref="LedgerEntryKind.AdvanceDeduction"/>, naming this advance); if the renewal is declined,
/// what is left is a debt. The row itself never changes: its status is read from the ledger and the proposal.
/// </summary>
public sealed class AllocationAdvance
{
    public Guid Id { get; private set; }

    /// <summary>The allocation that received the hours.</summary>
    public Guid AllocationId { get; private set; }

    /// <summary>The renewal proposal whose award pays them back.</summary>
    public Guid ProposalId { get; private set; }

    public Guid ClusterId { get; private set; }

    public decimal Hours { get; private set; }

    public string Reason { get; private set; } = "";

    public Guid GrantedBy { get; private set; }

    public DateTimeOffset GrantedAt { get; private set; }

    private AllocationAdvance()
    {
    }

    internal AllocationAdvance(Guid allocationId, Guid proposalId, Guid clusterId, decimal hours, string reason, Guid admin, DateTimeOffset now)
    {
        Id = Guid.CreateVersion7(now);
        AllocationId = allocationId;
        ProposalId = proposalId;
        ClusterId = clusterId;
        Hours = hours;
        Reason = reason;
        GrantedBy = admin;
        GrantedAt = now;
    }

    /// <summary>The status from what was deducted and how the renewal ended.</summary>
    /// <param name="renewalOver">The renewal's decision is released and no award of it can still be accepted (declined, waitlisted, or the award answered).</param>
    public static AdvanceStatus StatusOf(decimal hours, decimal deducted, bool renewalOver) =>
        deducted >= hours ? AdvanceStatus.Deducted : renewalOver ? AdvanceStatus.Debt : AdvanceStatus.Outstanding;
}

using Microsoft.EntityFrameworkCore;

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
/// Hours an admin gave an open allocation ahead of its expected renewal, so work does not stop: the renewal is the
/// next allocation of the same Slurm account (the cluster resets the account's usage once and runs exactly its grant),
/// expected from the PI's renewal proposal under review, and the advance is capped at a share of what that proposal
/// requests on the cluster (<see cref="AllocationOptions.AdvanceCap"/>). The hours are an
/// <see cref="LedgerEntryKind.Advance"/> entry on the allocation; when the renewal comes (the proposal's award accepted,
/// or an admin creating the account's next allocation) they are deducted from its grant
/// (<see cref="LedgerEntryKind.AdvanceDeduction"/>, naming this advance); if the renewal is declined, what is left is a
/// debt. The row itself never changes: its status is read from the ledger and the proposal.
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

/// <summary>An advance as the admins see it: how much, against which renewal, how much was taken back, and what is left as debt.</summary>
public sealed record AdvanceLine(
    Guid Id,
    Guid AllocationId,
    string SlurmAccount,
    Guid ProposalId,
    string ProposalTitle,
    string ClusterName,
    decimal Hours,
    decimal Deducted,
    AdvanceStatus Status,
    DateTimeOffset GrantedAt,
    string Reason)
{
    /// <summary>Hours neither deducted yet nor forgiven: a debt once the renewal is over.</summary>
    public decimal Outstanding => Hours - Deducted;

    /// <summary>The advances (of one allocation, or all), newest first, with their status read from the ledger and the renewal.</summary>
    public static async Task<IReadOnlyList<AdvanceLine>> ListAsync(Data.PortalDbContext db, Guid? allocationId = null, CancellationToken cancellationToken = default)
    {
        var rows = await db.AllocationAdvances.AsNoTracking()
            .Where(a => allocationId == null || a.AllocationId == allocationId)
            .OrderByDescending(a => a.GrantedAt)
            .Select(a => new
            {
                a.Id, a.AllocationId, a.ProposalId, a.Hours, a.GrantedAt, a.Reason,
                Account = db.Allocations.Where(x => x.Id == a.AllocationId).Select(x => x.SlurmAccount).Single(),
                Cluster = db.Clusters.Where(c => c.Id == a.ClusterId).Select(c => c.Name).Single(),
                Renewal = db.Proposals.Where(p => p.Id == a.ProposalId).Select(p => new { p.Title, p.Status, p.Decision, p.DecisionReleasedAt, p.AwardResponse }).Single(),
                Deducted = -db.LedgerEntries.Where(e => e.AdvanceId == a.Id && e.Kind == LedgerEntryKind.AdvanceDeduction).Sum(e => e.Hours),
            })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(r => new AdvanceLine(r.Id, r.AllocationId, r.Account, r.ProposalId, r.Renewal.Title, r.Cluster, r.Hours, r.Deducted,
            AllocationAdvance.StatusOf(r.Hours, r.Deducted, RenewalOver(r.Renewal.Status, r.Renewal.Decision, r.Renewal.DecisionReleasedAt, r.Renewal.AwardResponse)),
            r.GrantedAt, r.Reason))];
    }

    /// <summary>
    /// No award of the renewal can still pay the advance back: it was withdrawn, declined (or waitlisted) and released,
    /// or its award was answered (declined by the PI, or accepted and deducted as far as it went).
    /// </summary>
    private static bool RenewalOver(Proposals.ProposalStatus status, Proposals.ProposalDecision? decision, DateTimeOffset? released, Proposals.AwardResponse? response) =>
        status == Proposals.ProposalStatus.Withdrawn
        || (released is not null && decision == Proposals.ProposalDecision.Declined)
        || response is not null;
}

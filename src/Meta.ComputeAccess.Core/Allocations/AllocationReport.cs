using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>One cluster of the allocation, in the program's unit; <see cref="Rates"/> turns hours into the cluster's own.</summary>
public sealed record QuotaLine(Guid ClusterId, string ClusterName, decimal Granted, decimal Used, decimal Expired, decimal Remaining)
{
    /// <summary>Later tranches not released yet.</summary>
    public decimal Held { get; init; }

    /// <summary>The cluster's charge policy in force.</summary>
    public Clusters.ChargePolicy Rates { get; init; } = null!;
}

/// <summary>A later tranche and what became of it.</summary>
public sealed record TrancheLine(int Number, string ClusterName, decimal Hours, string Condition, DateTimeOffset? ReleasedAt, bool Cancelled, string? Outcome);

/// <summary>A PI's transfer request.</summary>
public sealed record TransferLine(Guid Id, DateTimeOffset RequestedAt, string FromCluster, string ToCluster, decimal Hours, string Justification, SupplementStatus Status, string? DecisionMessage);

public sealed record LedgerLine(long Id, DateTimeOffset EffectiveAt, DateTimeOffset RecordedAt, string ClusterName, LedgerEntryKind Kind, decimal Hours, string Cause);

public sealed record HistoryLine(DateTimeOffset At, string Action, AllocationState? From, AllocationState To, string Detail, string? Actor);

public sealed record SupplementLine(Guid Id, DateTimeOffset RequestedAt, string? ClusterName, decimal? RequestedHours, DateOnly? RequestedEndDate, string Justification,
    SupplementStatus Status, decimal? ApprovedHours, DateOnly? ApprovedEndDate, string? DecisionMessage);

/// <summary>
/// Everything the allocation pages show of the allocation module, read in one place (no tracking). The jobs charged
/// belong to the usage module, which the pages ask for them.
/// </summary>
public sealed record AllocationReport(
    Allocation Allocation,
    string PiName,
    string PeriodName,
    IReadOnlyList<QuotaLine> Quotas,
    IReadOnlyList<LedgerLine> Ledger,
    IReadOnlyList<HistoryLine> History,
    IReadOnlyList<SupplementLine> Supplements,
    UsageProjection Projection,
    IReadOnlyList<BurnDownPoint> BurnDown)
{
    public IReadOnlyList<TrancheLine> Tranches { get; init; } = [];

    public IReadOnlyList<TransferLine> Transfers { get; init; } = [];

    public IReadOnlyList<AdvanceLine> Advances { get; init; } = [];

    /// <summary>The report of allocation <paramref name="id"/>, or null when it does not exist or <paramref name="viewer"/> may not see it (checked before anything else is read).</summary>
    public static async Task<AllocationReport?> LoadAsync(PortalDbContext db, Viewer viewer, Guid id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var allocation = await db.Allocations.VisibleTo(viewer).AsNoTracking().Include(a => a.Quotas).Include(a => a.Events)
            .SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (allocation is null)
        {
            return null;
        }
        var transfers = await db.TransferRequests.AsNoTracking().Where(t => t.AllocationId == id).OrderByDescending(t => t.RequestedAt).ToListAsync(cancellationToken);
        // Every ledger entry and supplement is on a cluster the allocation has hours on; a transfer request may name another.
        var quotaClusters = allocation.Quotas.Select(q => q.ClusterId).Concat(transfers.Select(t => t.ToClusterId)).Distinct().ToList();
        var clusters = await db.Clusters.AsNoTracking().Where(c => quotaClusters.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        var rates = await Clusters.ChargePolicies.InForceAsync(db, quotaClusters, now, cancellationToken);
        var tranches = await db.AllocationTranches.AsNoTracking().Where(t => t.AllocationId == id).OrderBy(t => t.Number).ThenBy(t => t.ClusterId).ToListAsync(cancellationToken);
        var pi = await db.Users.Where(u => u.Id == allocation.PiUserId).Select(u => u.FullName).SingleAsync(cancellationToken);
        var period = await db.AllocationPeriods.Where(p => p.Id == allocation.PeriodId).Select(p => p.Name).SingleAsync(cancellationToken);
        var rows = await db.LedgerEntries.AsNoTracking().Where(e => e.AllocationId == id).OrderBy(e => e.EffectiveAt).ThenBy(e => e.Id).ToListAsync(cancellationToken);
        var entries = rows.Select(e => e.ToLedgerEntry()).ToList();
        // The ledger list shows everything but single jobs, which the job list below shows.
        var ledger = rows.Where(e => e.Kind != LedgerEntryKind.Usage).OrderByDescending(e => e.Id)
            .Select(e => new LedgerLine(e.Id, e.EffectiveAt, e.RecordedAt, clusters.GetValueOrDefault(e.ClusterId, "?"), e.Kind, e.Hours, e.Cause)).ToList();
        var actorIds = allocation.Events.Where(e => e.ActorUserId is not null).Select(e => e.ActorUserId!.Value).Distinct().ToList();
        var actors = await db.Users.Where(u => actorIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.FullName, cancellationToken);
        var supplements = await db.SupplementRequests.AsNoTracking().Where(s => s.AllocationId == id).OrderByDescending(s => s.RequestedAt).ToListAsync(cancellationToken);
        return new AllocationReport(
            allocation,
            pi,
            period,
            [.. allocation.Quotas.OrderBy(q => clusters.GetValueOrDefault(q.ClusterId)).Select(q => new QuotaLine(q.ClusterId, clusters.GetValueOrDefault(q.ClusterId, "?"), q.GrantedHours, q.UsedHours, q.ExpiredHours, q.RemainingHours)
            {
                Held = q.HeldHours,
                Rates = rates[q.ClusterId],
            })],
            ledger,
            [.. allocation.Events.OrderByDescending(e => e.Id).Select(e => new HistoryLine(e.At, e.Action, e.FromState, e.ToState, e.Detail, e.ActorUserId is { } a ? actors.GetValueOrDefault(a) : null))],
            [.. supplements.Select(s => new SupplementLine(s.Id, s.RequestedAt, s.ClusterId is { } c ? clusters.GetValueOrDefault(c) : null, s.RequestedHours, s.RequestedEndDate, s.Justification, s.Status, s.ApprovedHours, s.ApprovedEndDate, s.DecisionMessage))],
            QuotaLedger.Project(entries, null, allocation.StartsAt, allocation.EndsAt, now),
            QuotaLedger.BurnDown(entries, null, allocation.StartsAt, allocation.EndsAt, now, held: allocation.Quotas.Sum(q => q.HeldHours)))
        {
            Tranches = [.. tranches.Select(t => new TrancheLine(t.Number, clusters.GetValueOrDefault(t.ClusterId, "?"), t.Hours, t.Condition, t.ReleasedAt, t.Cancelled, t.Outcome))],
            Transfers = [.. transfers.Select(t => new TransferLine(t.Id, t.RequestedAt, clusters.GetValueOrDefault(t.FromClusterId, "?"), clusters.GetValueOrDefault(t.ToClusterId, "?"), t.Hours, t.Justification, t.Status, t.DecisionMessage))],
            Advances = await AdvanceLine.ListAsync(db, id, cancellationToken),
        };
    }

    /// <summary>
    /// The whole-allocation burn-down of each allocation given by id and dates (which the caller read through a
    /// visibility scope), from one query of their ledgers: a dashboard's small charts.
    /// </summary>
    public static async Task<IReadOnlyDictionary<Guid, IReadOnlyList<BurnDownPoint>>> BurnDownsAsync(
        PortalDbContext db, IReadOnlyCollection<(Guid Id, DateOnly StartDate, DateOnly EndDate)> allocations, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(allocations);
        var ids = allocations.Select(a => a.Id).ToList();
        if (ids.Count == 0)
        {
            return new Dictionary<Guid, IReadOnlyList<BurnDownPoint>>();
        }
        // Usage is charged as one entry per allocation, cluster and job-end day, so a ledger stays small.
        var entries = (await db.LedgerEntries.AsNoTracking().Where(e => ids.Contains(e.AllocationId)).ToListAsync(cancellationToken)).ToLookup(e => e.AllocationId);
        return allocations.ToDictionary(a => a.Id, a => QuotaLedger.BurnDown(
            entries[a.Id].Select(e => e.ToLedgerEntry()), null, Allocation.StartOf(a.StartDate), Allocation.EndOf(a.EndDate), now));
    }
}

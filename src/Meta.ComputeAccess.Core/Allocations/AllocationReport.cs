using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

public sealed record QuotaLine(Guid ClusterId, string ClusterName, decimal Granted, decimal Used, decimal Expired, decimal Remaining);

public sealed record LedgerLine(long Id, DateTimeOffset EffectiveAt, DateTimeOffset RecordedAt, string ClusterName, LedgerEntryKind Kind, decimal Hours, string Cause);

public sealed record JobLine(string JobId, string ClusterName, string User, DateTimeOffset EndedAt, int Gpus, decimal GpuHours, string State);

public sealed record HistoryLine(DateTimeOffset At, string Action, AllocationState? From, AllocationState To, string Detail, string? Actor);

public sealed record SupplementLine(Guid Id, DateTimeOffset RequestedAt, string? ClusterName, decimal? RequestedHours, DateOnly? RequestedEndDate, string Justification,
    SupplementStatus Status, decimal? ApprovedHours, DateOnly? ApprovedEndDate, string? DecisionMessage);

/// <summary>Everything the allocation pages show, read in one place (no tracking).</summary>
public sealed record AllocationReport(
    Allocation Allocation,
    string PiName,
    string PeriodName,
    IReadOnlyList<QuotaLine> Quotas,
    IReadOnlyList<LedgerLine> Ledger,
    IReadOnlyList<JobLine> RecentJobs,
    IReadOnlyList<HistoryLine> History,
    IReadOnlyList<SupplementLine> Supplements,
    UsageProjection Projection,
    IReadOnlyList<BurnDownPoint> BurnDown)
{
    public static async Task<AllocationReport?> LoadAsync(PortalDbContext db, Guid id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var allocation = await db.Allocations.AsNoTracking().Include(a => a.Quotas).Include(a => a.Events).SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (allocation is null)
        {
            return null;
        }
        var clusters = await db.Clusters.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        var pi = await db.Users.Where(u => u.Id == allocation.PiUserId).Select(u => u.FullName).SingleAsync(cancellationToken);
        var period = await db.AllocationPeriods.Where(p => p.Id == allocation.PeriodId).Select(p => p.Name).SingleAsync(cancellationToken);
        var rows = await db.LedgerEntries.AsNoTracking().Where(e => e.AllocationId == id).OrderBy(e => e.EffectiveAt).ThenBy(e => e.Id).ToListAsync(cancellationToken);
        var entries = rows.Select(e => e.ToLedgerEntry()).ToList();
        // The ledger list shows everything but single jobs, which the job list below shows.
        var ledger = rows.Where(e => e.Kind != LedgerEntryKind.Usage).OrderByDescending(e => e.Id)
            .Select(e => new LedgerLine(e.Id, e.EffectiveAt, e.RecordedAt, clusters.GetValueOrDefault(e.ClusterId, "?"), e.Kind, e.Hours, e.Cause)).ToList();
        var jobs = await db.UsageRecords.AsNoTracking().Where(u => u.AllocationId == id).OrderByDescending(u => u.EndedAt).Take(50)
            .Select(u => new { u.JobId, u.ClusterId, u.UserName, u.EndedAt, u.GpuCount, u.GpuHours, u.State }).ToListAsync(cancellationToken);
        var actorIds = allocation.Events.Where(e => e.ActorUserId is not null).Select(e => e.ActorUserId!.Value).Distinct().ToList();
        var actors = await db.Users.Where(u => actorIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.FullName, cancellationToken);
        var supplements = await db.SupplementRequests.AsNoTracking().Where(s => s.AllocationId == id).OrderByDescending(s => s.RequestedAt).ToListAsync(cancellationToken);
        return new AllocationReport(
            allocation,
            pi,
            period,
            [.. allocation.Quotas.OrderBy(q => clusters.GetValueOrDefault(q.ClusterId)).Select(q => new QuotaLine(q.ClusterId, clusters.GetValueOrDefault(q.ClusterId, "?"), q.GrantedHours, q.UsedHours, q.ExpiredHours, q.RemainingHours))],
            ledger,
            [.. jobs.Select(j => new JobLine(j.JobId, clusters.GetValueOrDefault(j.ClusterId, "?"), j.UserName, j.EndedAt, j.GpuCount, j.GpuHours, j.State))],
            [.. allocation.Events.OrderByDescending(e => e.Id).Select(e => new HistoryLine(e.At, e.Action, e.FromState, e.ToState, e.Detail, e.ActorUserId is { } a ? actors.GetValueOrDefault(a) : null))],
            [.. supplements.Select(s => new SupplementLine(s.Id, s.RequestedAt, s.ClusterId is { } c ? clusters.GetValueOrDefault(c) : null, s.RequestedHours, s.RequestedEndDate, s.Justification, s.Status, s.ApprovedHours, s.ApprovedEndDate, s.DecisionMessage))],
            QuotaLedger.Project(entries, null, allocation.StartsAt, allocation.EndsAt, now),
            QuotaLedger.BurnDown(entries, null, allocation.StartsAt, allocation.EndsAt, now));
    }
}

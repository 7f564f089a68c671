using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// One open account's hours on a cluster, as the cluster is told them: in the cluster's native hours (the hours of the
/// first TRES of its charge policy in force), converted from the program's unit at that rate, and only the hours
/// released (a tranche not yet released is not there).
/// </summary>
/// <param name="LimitMinutes">
/// The GPU-minute limit to enforce (Slurm's <c>GrpTRESMins=gres/gpu=…</c>): the released hours in whole native minutes while
/// the allocation is active, 0 while it is suspended or used up, so its jobs stop starting.
/// </param>
public sealed record QuotaExportRow(
    string SlurmAccount,
    AllocationState State,
    DateOnly StartDate,
    DateOnly EndDate,
    decimal GrantedHours,
    decimal UsedHours,
    decimal RemainingHours,
    long LimitMinutes)
{
    /// <summary>Its jobs may run: only these accounts are listed as active quotas.</summary>
    public bool IsActive => State == AllocationState.Active;
}

/// <summary>What one cluster is told to enforce (<c>GET /api/v1/clusters/{cluster}/quotas</c>).</summary>
/// <param name="Accounts">Every open account with hours on the cluster (ended ones are no longer sent), by account name.</param>
public sealed record QuotaExport(string SlurmClusterName, IReadOnlyList<QuotaExportRow> Accounts)
{
    /// <summary>The accounts whose jobs may run, for the JSON list.</summary>
    public IEnumerable<QuotaExportRow> Active => Accounts.Where(a => a.IsActive);

    public static async Task<QuotaExport> ForClusterAsync(PortalDbContext db, Guid clusterId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var rates = (await ChargePolicies.InForceAsync(db, [clusterId], now, cancellationToken))[clusterId];
        var slurmCluster = await db.Clusters.Where(c => c.Id == clusterId).Select(c => c.SlurmClusterName).SingleAsync(cancellationToken);
        var rows = await db.AllocationQuotas.AsNoTracking()
            .Where(q => q.ClusterId == clusterId)
            .Join(db.Allocations.Where(a => Allocation.ChargeableStates.Contains(a.State)), q => q.AllocationId, a => a.Id,
                (q, a) => new { Quota = q, a.SlurmAccount, a.State, a.StartDate, a.EndDate })
            .OrderBy(r => r.SlurmAccount)
            .ToListAsync(cancellationToken);
        return new QuotaExport(slurmCluster, [.. rows.Select(r => new QuotaExportRow(
            r.SlurmAccount, r.State, r.StartDate, r.EndDate, rates.ToNative(r.Quota.GrantedHours), rates.ToNative(r.Quota.UsedHours), rates.ToNative(r.Quota.RemainingHours),
            LimitMinutes: r.State == AllocationState.Active ? (long)Math.Floor(rates.ToNative(r.Quota.GrantedHours) * 60) : 0))]);
    }
}

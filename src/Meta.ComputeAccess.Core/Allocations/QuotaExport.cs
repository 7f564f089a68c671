using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// One Slurm account's hours on a cluster, as the cluster is told them: the account's allocation in force, in the
/// cluster's native hours (the hours of the first TRES of its charge policy in force, converted from the program's unit
/// at that rate), and only the hours released (a tranche not yet released is not there).
/// </summary>
/// <param name="LimitMinutes">
/// The native TRES-minute limit to enforce (Slurm's <c>GrpTRESMins=&lt;tres&gt;=…</c>): the released native hours in whole
/// minutes (rounded down) while the allocation is active, 0 in every other state (pending, suspended, used up, ended), so
/// its jobs stop starting.
/// </param>
public sealed record QuotaExportRow(
    Guid AllocationId,
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

    /// <summary>Not ended: listed in the <c>sacctmgr</c> text.</summary>
    public bool IsOpen => Allocation.OpenStates.Contains(State);

    /// <summary>The TRES-minute limit of an allocation in <paramref name="state"/> with <paramref name="grantedHours"/> released, in the cluster's native hours.</summary>
    public static long Limit(AllocationState state, decimal grantedHours) =>
        state == AllocationState.Active && grantedHours > 0 ? (long)Math.Floor(grantedHours * 60) : 0;
}

/// <summary>
/// What one cluster is told to enforce: every Slurm account that has had hours on it, once, with the allocation in
/// force for it. The quota rules live here; the cluster API only formats them (<c>/quotas</c> JSON and <c>sacctmgr</c>
/// text for people, <see cref="ClusterPlan"/> for the agent).
/// </summary>
/// <param name="Tres">The TRES every limit is in: the first of the cluster's charge policy in force (<c>gres/gpu</c> by default).</param>
/// <param name="All">Every account, by name, ended ones included (the agent's plan keeps them at 0). An account's
/// allocation in force is its open allocation that has started (active, suspended or used up), else its next pending
/// one, else the one that ended last.</param>
public sealed record QuotaExport(Guid ClusterId, string ClusterSlug, string SlurmClusterName, string Tres, IReadOnlyList<QuotaExportRow> All)
{
    /// <summary>The accounts whose allocation has not ended, for the <c>sacctmgr</c> text.</summary>
    public IEnumerable<QuotaExportRow> Accounts => All.Where(a => a.IsOpen);

    /// <summary>The accounts whose jobs may run, for the JSON list.</summary>
    public IEnumerable<QuotaExportRow> Active => All.Where(a => a.IsActive);

    public static async Task<QuotaExport> ForClusterAsync(PortalDbContext db, Guid clusterId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var cluster = await db.Clusters.AsNoTracking().Where(c => c.Id == clusterId).Select(c => new { c.Slug, c.SlurmClusterName }).SingleAsync(cancellationToken);
        var rates = (await ChargePolicies.InForceAsync(db, [clusterId], now, cancellationToken))[clusterId];
        var rows = await db.AllocationQuotas.AsNoTracking()
            .Where(q => q.ClusterId == clusterId)
            .Join(db.Allocations, q => q.AllocationId, a => a.Id,
                (q, a) => new { a.Id, a.SlurmAccount, a.State, a.StartDate, a.EndDate, a.CreatedAt, Quota = q })
            .ToListAsync(cancellationToken);
        var inForce = rows.GroupBy(r => r.SlurmAccount, StringComparer.Ordinal)
            .Select(g => g
                .OrderBy(r => Rank(r.State))
                // Started: the latest; pending: the next to start; ended: the last to end.
                .ThenBy(r => r.State == AllocationState.Pending ? r.StartDate.DayNumber : -r.StartDate.DayNumber)
                .ThenByDescending(r => r.EndDate)
                .ThenByDescending(r => r.CreatedAt)
                .First())
            .OrderBy(r => r.SlurmAccount, StringComparer.Ordinal);
        return new QuotaExport(clusterId, cluster.Slug, cluster.SlurmClusterName, rates.Native.Tres, [.. inForce.Select(r =>
        {
            var granted = rates.ToNative(r.Quota.GrantedHours);
            return new QuotaExportRow(r.Id, r.SlurmAccount, r.State, r.StartDate, r.EndDate,
                granted, rates.ToNative(r.Quota.UsedHours), rates.ToNative(r.Quota.RemainingHours), QuotaExportRow.Limit(r.State, granted));
        })]);
    }

    private static int Rank(AllocationState state) => state switch
    {
        AllocationState.Active or AllocationState.Suspended or AllocationState.Exhausted => 0,
        AllocationState.Pending => 1,
        _ => 2,
    };
}

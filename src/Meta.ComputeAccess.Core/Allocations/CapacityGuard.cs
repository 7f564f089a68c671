using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// The only writer of <see cref="ClusterCapacity.CommittedHours"/>. Each change locks the capacity row
/// (<c>SELECT … FOR UPDATE</c>) in the caller's transaction, so concurrent grants on one cluster and period
/// queue behind each other and each sees the hours the previous one committed. The check constraint
/// <c>ck_cluster_capacities_within_limit</c> backs the rule in the database.
/// </summary>
public sealed class CapacityGuard(PortalDbContext db)
{
    /// <summary>Locks and returns the row for a change; null when no capacity is set for the cluster in the period.</summary>
    public async Task<ClusterCapacity?> LockAsync(Guid clusterId, Guid periodId, CancellationToken cancellationToken = default)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("Capacity changes need the caller's transaction.");
        }
        var rows = await db.ClusterCapacities
            .FromSql($"SELECT * FROM cluster_capacities WHERE cluster_id = {clusterId} AND period_id = {periodId} FOR UPDATE")
            .ToListAsync(cancellationToken);
        if (rows.Count == 0)
        {
            return null;
        }
        // An instance tracked before the lock keeps its old values; read the locked row's.
        await db.Entry(rows[0]).ReloadAsync(cancellationToken);
        return rows[0];
    }

    /// <summary>Commits <paramref name="hours"/> (negative frees them) or throws a <see cref="DomainException"/> saying why not.</summary>
    public async Task CommitAsync(Guid clusterId, Guid periodId, decimal hours, CancellationToken cancellationToken = default)
    {
        var row = await LockAsync(clusterId, periodId, cancellationToken);
        var clusterName = await db.Clusters.Where(c => c.Id == clusterId).Select(c => c.Name).SingleAsync(cancellationToken);
        var periodName = await db.AllocationPeriods.Where(p => p.Id == periodId).Select(p => p.Name).SingleAsync(cancellationToken);
        if (row is null)
        {
            throw new DomainException($"No capacity is set for {clusterName} in {periodName}; set it under Admin → Capacity first.");
        }
        row.Commit(hours, clusterName, periodName);
    }
}

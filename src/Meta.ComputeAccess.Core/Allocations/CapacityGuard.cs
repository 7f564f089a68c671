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
    /// <summary>Locks and returns the row for a change (one query, the locked values); null when no capacity is set for the cluster in the period.</summary>
    public async Task<ClusterCapacity?> LockAsync(Guid clusterId, Guid periodId, CancellationToken cancellationToken = default)
    {
        var rows = await db.LockAsync<ClusterCapacity>(
            $"SELECT * FROM cluster_capacities WHERE cluster_id = {clusterId} AND period_id = {periodId} FOR UPDATE", cancellationToken);
        return rows.SingleOrDefault();
    }

    /// <summary>Commits <paramref name="hours"/> (negative frees them) or throws a <see cref="DomainException"/> saying why not.</summary>
    public async Task CommitAsync(Guid clusterId, Guid periodId, decimal hours, CancellationToken cancellationToken = default)
    {
        var row = await LockAsync(clusterId, periodId, cancellationToken);
        if (row is not null && row.CanCommit(hours))
        {
            row.Commit(hours);
            return;
        }
        // The names are read only for the refusal's message.
        var cluster = await db.Clusters.Where(c => c.Id == clusterId).Select(c => c.Name).SingleAsync(cancellationToken);
        var period = await db.AllocationPeriods.Where(p => p.Id == periodId).Select(p => p.Name).SingleAsync(cancellationToken);
        throw new DomainException(row is null
            ? $"No capacity is set for {cluster} in {period}; set it under Admin → Capacity first."
            : row.Shortfall(hours, cluster, period));
    }
}

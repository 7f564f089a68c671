using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>One cluster in one period, for the capacity pages.</summary>
public sealed record CapacityRow(Guid ClusterId, string ClusterName, Guid? CapacityId, decimal Capacity, decimal Factor, decimal Reserve, decimal Grantable, decimal Committed, decimal Used, decimal Free);

/// <summary>Periods and capacity: what admins set, and what has been committed and used against it.</summary>
public sealed class CapacityPlanning(PortalDbContext db, CapacityGuard guard, AuditLog audit, TimeProvider clock)
{
    public async Task<AllocationPeriod> CreatePeriodAsync(string name, DateOnly start, DateOnly end, Guid actor, CancellationToken cancellationToken = default)
    {
        var period = AllocationPeriod.Create(name, start, end, clock.GetUtcNow());
        if (await db.AllocationPeriods.AnyAsync(p => p.Name == period.Name, cancellationToken))
        {
            throw new DomainException($"A period named {period.Name} exists already.");
        }
        db.AllocationPeriods.Add(period);
        audit.Record(actor, "period.created", "period", period.Id.ToString(), $"Period {period.Name} ({start:yyyy-MM-dd} to {end:yyyy-MM-dd}) created");
        await db.SaveChangesAsync(cancellationToken);
        return period;
    }

    /// <summary>Sets a cluster's capacity in a period; refused when it would fall below what is already granted.</summary>
    public async Task SetAsync(Guid clusterId, Guid periodId, decimal capacityHours, decimal factor, decimal reserveHours, Guid actor, CancellationToken cancellationToken = default)
    {
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var row = await guard.LockAsync(clusterId, periodId, cancellationToken);
        if (row is null)
        {
            row = ClusterCapacity.Create(clusterId, periodId, capacityHours, factor, reserveHours, clock.GetUtcNow());
            db.ClusterCapacities.Add(row);
        }
        else
        {
            row.Change(capacityHours, factor, reserveHours);
        }
        var names = await db.Clusters.Where(c => c.Id == clusterId)
            .Select(c => new { Cluster = c.Name, Period = db.AllocationPeriods.Where(p => p.Id == periodId).Select(p => p.Name).FirstOrDefault() })
            .FirstOrDefaultAsync(cancellationToken);
        audit.Record(actor, "capacity.set", "cluster", clusterId.ToString(),
            $"Capacity of {names?.Cluster ?? "an unknown cluster"} in {names?.Period ?? "an unknown period"}: {capacityHours.AsHours()} GPU-h × {factor:0.###} − reserve {reserveHours.AsHours()}");
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            throw new DomainException("Another admin changed this capacity at the same moment; reload and try again.");
        }
        await tx.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<CapacityRow>> RowsAsync(Guid periodId, CancellationToken cancellationToken = default)
    {
        var clusters = await db.Clusters.AsNoTracking().OrderBy(c => c.Name).Select(c => new { c.Id, c.Name }).ToListAsync(cancellationToken);
        var capacities = await db.ClusterCapacities.AsNoTracking().Where(c => c.PeriodId == periodId).ToListAsync(cancellationToken);
        var used = await (from q in db.AllocationQuotas
                          join a in db.Allocations on q.AllocationId equals a.Id
                          where a.PeriodId == periodId
                          group q by q.ClusterId into g
                          select new { ClusterId = g.Key, Used = g.Sum(q => q.UsedHours) }).ToDictionaryAsync(x => x.ClusterId, x => x.Used, cancellationToken);
        return clusters.Select(c =>
        {
            var cap = capacities.SingleOrDefault(x => x.ClusterId == c.Id);
            var u = used.GetValueOrDefault(c.Id);
            return cap is null
                ? new CapacityRow(c.Id, c.Name, null, 0, 1, 0, 0, 0, u, 0)
                : new CapacityRow(c.Id, c.Name, cap.Id, cap.CapacityHours, cap.OversubscriptionFactor, cap.ReserveHours, cap.Grantable, cap.CommittedHours, u, cap.Free);
        }).ToList();
    }
}

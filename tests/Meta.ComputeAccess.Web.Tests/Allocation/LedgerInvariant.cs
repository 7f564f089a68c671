using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>
/// The ledger invariant, checked after every test of the classes that move hours (rates, tranches, transfers, advances):
/// for every allocation and cluster, the ledger's sum is the hours released less those used and written off, and the
/// cached quota says the same; usage entries add up to the used hours; no capacity is over its limit; and each period's
/// committed hours are what its allocations hold (released, plus tranches held back, less what closing returned).
/// </summary>
public abstract class LedgerInvariantTests(PortalFactory factory) : IAsyncLifetime
{
    protected PortalFactory Factory { get; } = factory;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await using var db = Factory.NewDbContext();
        var entries = await db.LedgerEntries.AsNoTracking()
            .GroupBy(e => new { e.AllocationId, e.ClusterId })
            .Select(g => new
            {
                g.Key.AllocationId,
                g.Key.ClusterId,
                Sum = g.Sum(e => e.Hours),
                Used = -g.Where(e => e.Kind == LedgerEntryKind.Usage).Sum(e => e.Hours),
                Expired = -g.Where(e => e.Kind == LedgerEntryKind.Expiry).Sum(e => e.Hours),
            })
            .ToListAsync();
        var quotas = await db.AllocationQuotas.AsNoTracking().ToListAsync();
        Assert.Equal(quotas.Count, entries.Count(e => quotas.Any(q => q.AllocationId == e.AllocationId && q.ClusterId == e.ClusterId)));
        foreach (var quota in quotas)
        {
            var ledger = entries.SingleOrDefault(e => e.AllocationId == quota.AllocationId && e.ClusterId == quota.ClusterId);
            var sum = ledger?.Sum ?? 0m;
            // ledger sum = released − used − written off
            Assert.Equal(quota.GrantedHours - quota.UsedHours - quota.ExpiredHours, sum);
            Assert.Equal(quota.UsedHours, ledger?.Used ?? 0m);
            Assert.Equal(quota.ExpiredHours, ledger?.Expired ?? 0m);
            Assert.True(quota.HeldHours >= 0, "held hours are never negative");
        }
        // Every charged job is in the ledger at the price its record kept (its GPU-hours before rates).
        var charged = await db.UsageRecords.AsNoTracking().Where(u => u.AllocationId != null).SumAsync(u => u.ChargedHours ?? u.GpuHours);
        Assert.Equal(charged, quotas.Sum(q => q.UsedHours));
        await AssertUserTotalsAsync(db);
        var capacities = await db.ClusterCapacities.AsNoTracking().ToListAsync();
        foreach (var capacity in capacities)
        {
            Assert.True(capacity.CommittedHours <= capacity.Grantable, $"cluster {capacity.ClusterId} is over capacity");
            var held = await db.AllocationQuotas.AsNoTracking().Where(q => q.ClusterId == capacity.ClusterId)
                .Join(db.Allocations.Where(a => a.PeriodId == capacity.PeriodId), q => q.AllocationId, a => a.Id, (q, a) => q)
                .SumAsync(q => q.GrantedHours + q.HeldHours - q.ExpiredHours);
            // Advances deducted from an award were committed when they were advanced: the award's period holds them once.
            Assert.Equal(capacity.CommittedHours, held);
        }
    }

    /// <summary>The per-user running totals the allocation page reads are the charged jobs grouped by allocation, cluster and user.</summary>
    public static async Task AssertUserTotalsAsync(Data.PortalDbContext db)
    {
        var fromJobs = await db.UsageRecords.AsNoTracking().Where(u => u.AllocationId != null)
            .GroupBy(u => new { AllocationId = u.AllocationId!.Value, u.ClusterId, u.UserName })
            .Select(g => new { g.Key.AllocationId, g.Key.ClusterId, g.Key.UserName, Jobs = (long)g.Count(), GpuHours = g.Sum(u => u.GpuHours) })
            .ToListAsync();
        var kept = await db.AllocationUserUsage.AsNoTracking()
            .Select(u => new { u.AllocationId, u.ClusterId, u.UserName, u.Jobs, u.GpuHours }).ToListAsync();
        Assert.Equal(fromJobs.OrderBy(u => u.AllocationId).ThenBy(u => u.ClusterId).ThenBy(u => u.UserName, StringComparer.Ordinal),
            kept.OrderBy(u => u.AllocationId).ThenBy(u => u.ClusterId).ThenBy(u => u.UserName, StringComparer.Ordinal));
    }
}

using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

public sealed class CapacityConcurrencyTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Two_hundred_concurrent_grants_never_exceed_capacity_and_every_refusal_says_why()
    {
        var cluster = await factory.CreateClusterAsync("crowded");
        var period = await factory.CreatePeriodAsync("Crowded period");
        // 10,000 × 1.2 − 2,000 = 10,000 grantable; 9,500 already granted, so exactly 50 grants of 10 h fit.
        await factory.SetCapacityAsync(cluster, period, 10_000m, factor: 1.2m, reserve: 2_000m);
        var pi = await factory.CreateUserAsync("crowd.pi@example.edu");
        await factory.GrantAsync(period, pi.Id, "Big early project", new Dictionary<Guid, decimal> { [cluster.Id] = 9_500m });

        using var start = new SemaphoreSlim(0);
        var attempts = Enumerable.Range(0, 200).Select(async i =>
        {
            await start.WaitAsync();
            try
            {
                await factory.GrantAsync(period, pi.Id, $"Small project {i}", new Dictionary<Guid, decimal> { [cluster.Id] = 10m }, account: $"small-{i}");
                return (Ok: true, Message: "");
            }
            catch (DomainException ex)
            {
                return (Ok: false, ex.Message);
            }
        }).ToList();
        start.Release(200);
        var results = await Task.WhenAll(attempts);

        Assert.Equal(50, results.Count(r => r.Ok));
        var refusals = results.Where(r => !r.Ok).ToList();
        Assert.Equal(150, refusals.Count);
        Assert.All(refusals, r => Assert.Contains("Not enough capacity on Cluster crowded in Crowded period", r.Message, StringComparison.Ordinal));

        await using var db = factory.NewDbContext();
        var granted = await db.LedgerEntries.Where(e => e.ClusterId == cluster.Id && e.Kind == LedgerEntryKind.Grant).SumAsync(e => e.Hours);
        var capacity = await db.ClusterCapacities.SingleAsync(c => c.ClusterId == cluster.Id);
        Assert.Equal(10_000m, granted);
        Assert.Equal(granted, capacity.CommittedHours);
        Assert.Equal(51, await db.Allocations.CountAsync(a => a.PeriodId == period.Id));
    }

    [Fact]
    public async Task The_database_refuses_committed_hours_above_the_limit_even_from_raw_sql()
    {
        var cluster = await factory.CreateClusterAsync("rawsql");
        var period = await factory.CreatePeriodAsync("Raw SQL period");
        await factory.SetCapacityAsync(cluster, period, 100m);
        await using var db = factory.NewDbContext();
        var ex = await Assert.ThrowsAsync<Npgsql.PostgresException>(() =>
            db.Database.ExecuteSqlInterpolatedAsync($"UPDATE cluster_capacities SET committed_hours = 101 WHERE cluster_id = {cluster.Id}"));
        Assert.Equal("ck_cluster_capacities_within_limit", ex.ConstraintName);
    }

    [Fact]
    public async Task A_grant_on_a_cluster_without_capacity_in_the_period_is_refused_with_a_message()
    {
        var cluster = await factory.CreateClusterAsync("nocap");
        var period = await factory.CreatePeriodAsync("No capacity period");
        var pi = await factory.CreateUserAsync("nocap.pi@example.edu");
        var ex = await Assert.ThrowsAsync<DomainException>(() =>
            factory.GrantAsync(period, pi.Id, "Hopeful", new Dictionary<Guid, decimal> { [cluster.Id] = 1m }));
        Assert.Contains("No capacity is set for Cluster nocap in No capacity period", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_capacity_row_the_context_already_held_is_locked_with_its_current_values()
    {
        var cluster = await factory.CreateClusterAsync("lockfresh");
        var period = await factory.CreatePeriodAsync("Lock period");
        await factory.SetCapacityAsync(cluster, period, 100m);
        var pi = await factory.CreateUserAsync("lockfresh.pi@example.edu");
        await factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<Data.PortalDbContext>();
            // This context reads the row while nothing is committed yet...
            Assert.Equal(0m, (await db.ClusterCapacities.SingleAsync(c => c.ClusterId == cluster.Id)).CommittedHours);
            // ...then another admin grants 70 hours...
            await factory.GrantAsync(period, pi.Id, "Earlier grant", new Dictionary<Guid, decimal> { [cluster.Id] = 70m });
            // ...and the lock hands this context the committed 70, so 40 more no longer fit and 30 do.
            await using var tx = await db.Database.BeginTransactionAsync();
            var guard = sp.GetRequiredService<CapacityGuard>();
            var refused = await Assert.ThrowsAsync<DomainException>(() => guard.CommitAsync(cluster.Id, period.Id, 40m));
            Assert.Contains("30 free", refused.Message, StringComparison.Ordinal);
            await guard.CommitAsync(cluster.Id, period.Id, 30m);
            await db.SaveChangesAsync();
            await tx.CommitAsync();
        });
        await using var check = factory.NewDbContext();
        Assert.Equal(100m, (await check.ClusterCapacities.SingleAsync(c => c.ClusterId == cluster.Id)).CommittedHours);
    }
}

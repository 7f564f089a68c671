using Meta.ComputeAccess.Demo;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

public sealed class AllocationDemoSeedTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task The_demo_seed_sets_capacity_and_gives_the_demo_researcher_a_running_allocation()
    {
        await SeededAsync();

        await using var db = factory.NewDbContext();
        var allocation = await db.Allocations.Include(a => a.Quotas).SingleAsync(a => a.SlurmAccount == "lowres-speech");
        Assert.Equal(60_000m, allocation.Quotas.Sum(q => q.GrantedHours));
        // The running allocation and the pilot call's award that its PI accepted (AwardsDemoSeed: 25,000 on grand-teton).
        Assert.Equal(60_000m + 25_000m, await db.ClusterCapacities.SumAsync(c => c.CommittedHours));
        // Both clusters in this half-year and the next two (demo awards start months ahead).
        Assert.Equal(6, await db.ClusterCapacities.CountAsync());
        Assert.Equal(3, await db.AllocationPeriods.CountAsync());
    }

    [Fact]
    public async Task The_demo_allocation_has_a_month_of_usage_charged_through_the_ingest()
    {
        await SeededAsync();
        await using var db = factory.NewDbContext();
        var allocation = await db.Allocations.Include(a => a.Quotas).SingleAsync(a => a.SlurmAccount == "lowres-speech");
        var today = DateOnly.FromDateTime(factory.Clock.GetUtcNow().UtcDateTime);
        Assert.Equal(today.AddDays(-30), allocation.StartDate);

        // Jobs on both clusters, recorded once each (steps not charged), and their hours in the ledger and the quotas.
        var jobs = await db.UsageRecords.Where(u => u.AllocationId == allocation.Id).ToListAsync();
        Assert.True(jobs.Count > 100, $"{jobs.Count} jobs");
        // Each month of the demo's usage has its partitions: no job waits in a default one, recorded or queued unmatched.
        Assert.Equal(0L, await db.Database.SqlQuery<long>($"SELECT count(*) AS \"Value\" FROM usage_records_default").SingleAsync());
        Assert.Equal(0L, await db.Database.SqlQuery<long>($"SELECT count(*) AS \"Value\" FROM unmatched_usage_default").SingleAsync());
        await LedgerInvariantTests.AssertUserTotalsAsync(db);
        Assert.DoesNotContain(jobs, j => j.JobId.Contains('.', StringComparison.Ordinal));
        Assert.Equal(2, jobs.Select(j => j.ClusterId).Distinct().Count());
        var charged = -await db.LedgerEntries.Where(e => e.AllocationId == allocation.Id && e.Kind == Meta.ComputeAccess.Allocations.LedgerEntryKind.Usage).SumAsync(e => e.Hours);
        // Each job at its cluster's demo rate: H100-hours at 1, MTIA-hours at half, a 1g.10gb MIG slice at a seventh.
        Assert.Equal(jobs.Sum(j => j.ChargedHours!.Value), charged);
        var mtia = await db.Clusters.Where(c => c.Slug == "mtia").Select(c => c.Id).SingleAsync();
        Assert.All(jobs.Where(j => j.ClusterId == mtia), j => Assert.Equal(j.GpuHours / 2, j.ChargedHours));
        var mig = jobs.Where(j => j.UserName == "mchen").ToList();
        Assert.NotEmpty(mig);
        Assert.All(mig, j => Assert.Equal(decimal.Round(j.GpuHours / 7, 6), j.ChargedHours));
        Assert.Equal(charged, allocation.Quotas.Sum(q => q.UsedHours));
        // Weeks of use, more than a tenth of the grant: the burn-down is a line, not a dot.
        Assert.True(charged > 6_000m, $"{charged} accelerator-hours charged");
        Assert.True(jobs.Select(j => DateOnly.FromDateTime(j.EndedAt.UtcDateTime)).Distinct().Count() >= 25);
        // The mistyped account waits for the admins.
        var unmatched = Assert.Single(await db.UnmatchedUsage.ToListAsync());
        Assert.Equal("lowres-speach", unmatched.Account);
    }

    /// <summary>Both tests read the one demo seed of this class's database, whichever runs first (tests of a class run one at a time).</summary>
    private Task<bool> SeededAsync() => factory.WithScopeAsync(sp => sp.GetRequiredService<DemoSeeder>().SeedAsync());
}

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
        Assert.True(await factory.WithScopeAsync(sp => sp.GetRequiredService<DemoSeeder>().SeedAsync()));

        await using var db = factory.NewDbContext();
        var allocation = await db.Allocations.Include(a => a.Quotas).SingleAsync(a => a.SlurmAccount == "lowres-speech");
        Assert.Equal(60_000m, allocation.Quotas.Sum(q => q.GrantedHours));
        Assert.Equal(60_000m, await db.ClusterCapacities.SumAsync(c => c.CommittedHours));
        // Both clusters in this half-year and the next two (demo awards start months ahead).
        Assert.Equal(6, await db.ClusterCapacities.CountAsync());
        Assert.Equal(3, await db.AllocationPeriods.CountAsync());
    }
}

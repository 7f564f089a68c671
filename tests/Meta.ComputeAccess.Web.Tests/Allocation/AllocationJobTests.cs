using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

public sealed class AllocationJobTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private Task RunJobAsync() => factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationLifecycleJob>().RunAsync());

    [Fact]
    public async Task Expiry_writes_one_expiry_entry_for_the_remainder_even_when_the_job_runs_twice()
    {
        var cluster = await factory.CreateClusterAsync("expiry");
        var period = await factory.CreatePeriodAsync("Expiry period");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await factory.CreateUserAsync("expiry.pi@example.edu");
        var allocation = await factory.GrantAsync(period, pi.Id, "Ending soon", new Dictionary<Guid, decimal> { [cluster.Id] = 100m },
            account: "ending-acct", start: factory.Today().AddDays(-20), end: factory.Today().AddDays(-1));
        using (var client = factory.ApiClient(await factory.CreateTokenAsync(cluster)))
        {
            using var _ = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(factory.Sacct(("7001", "ending-acct", 30))));
        }

        await RunJobAsync();
        await RunJobAsync();

        await using var db = factory.NewDbContext();
        var expiry = await db.LedgerEntries.SingleAsync(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.Expiry);
        Assert.Equal(-70m, expiry.Hours);
        Assert.Equal(AllocationState.Expired, (await db.Allocations.SingleAsync(a => a.Id == allocation.Id)).State);
        Assert.Equal(0m, await db.LedgerEntries.Where(e => e.AllocationId == allocation.Id).SumAsync(e => e.Hours));
        Assert.Equal(1, await db.OutboxMessages.CountAsync(m => m.RecipientUserId == pi.Id && m.Kind == Meta.ComputeAccess.Notifications.NotificationKinds.AllocationEnded));
    }

    [Fact]
    public async Task Threshold_notices_go_out_once_each_and_a_used_up_allocation_is_marked_exhausted()
    {
        var cluster = await factory.CreateClusterAsync("thresh");
        var period = await factory.CreatePeriodAsync("Threshold period");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await factory.CreateUserAsync("thresh.pi@example.edu");
        var allocation = await factory.GrantAsync(period, pi.Id, "Hungry", new Dictionary<Guid, decimal> { [cluster.Id] = 100m }, account: "hungry-acct");
        using var client = factory.ApiClient(await factory.CreateTokenAsync(cluster));
        async Task UseAsync(string job, int gpus)
        {
            using var r = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(factory.Sacct((job, "hungry-acct", gpus))));
            Assert.Equal(System.Net.HttpStatusCode.OK, r.StatusCode);
        }

        await UseAsync("8001", 55);
        await RunJobAsync();
        await RunJobAsync();
        await UseAsync("8002", 30);
        await RunJobAsync();
        await UseAsync("8003", 20);
        await RunJobAsync();
        await RunJobAsync();

        await using var db = factory.NewDbContext();
        var subjects = await db.OutboxMessages.Where(m => m.RecipientUserId == pi.Id && m.Kind == Meta.ComputeAccess.Notifications.NotificationKinds.QuotaThreshold).Select(m => m.Subject).ToListAsync();
        Assert.Equal(["100 % of the quota used: “Hungry”", "50 % of the quota used: “Hungry”", "80 % of the quota used: “Hungry”"], subjects.Order(StringComparer.Ordinal));
        Assert.Equal(AllocationState.Exhausted, (await db.Allocations.SingleAsync(a => a.Id == allocation.Id)).State);
        Assert.Contains("exhausted", await db.AllocationEvents.Where(e => e.AllocationId == allocation.Id).Select(e => e.Action).ToListAsync());
    }
}

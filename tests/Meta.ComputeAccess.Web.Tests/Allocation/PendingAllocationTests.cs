using System.Net;
using System.Text.Json;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>An allocation that starts later is pending: not active, not sent any minutes, never idle; the lifecycle job starts it on its start date.</summary>
public sealed class PendingAllocationTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private Task RunJobAsync() => factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationLifecycleJob>().RunAsync());

    [Fact]
    public async Task An_allocation_starting_next_month_waits_pending_and_the_lifecycle_job_starts_and_announces_it_on_its_start_date()
    {
        var cluster = await factory.CreateClusterAsync("pending");
        var period = await factory.CreatePeriodAsync("Pending period");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await factory.CreateUserAsync("pending.pi@example.edu");
        var start = factory.Today().AddDays(40);
        var allocation = await factory.GrantAsync(period, pi.Id, "Next month", new Dictionary<Guid, decimal> { [cluster.Id] = 100m },
            account: "pending-acct", start: start, end: start.AddDays(90));
        Assert.Equal(AllocationState.Pending, allocation.State);
        using var api = factory.ApiClient(await factory.CreateTokenAsync(cluster));

        // A month before it starts: still pending, no minutes, not idle, not announced.
        await RunJobAsync();
        factory.Clock.Advance(TimeSpan.FromDays(35));
        await RunJobAsync();
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(AllocationState.Pending, (await db.Allocations.SingleAsync(a => a.Id == allocation.Id)).State);
            Assert.Empty(await db.Notifications.Where(n => n.UserId == pi.Id).Select(n => n.Kind).ToListAsync());
        }
        var quotas = JsonDocument.Parse(await api.GetStringAsync(new Uri($"/api/v1/clusters/{cluster.Slug}/quotas", UriKind.Relative))).RootElement;
        Assert.Empty(quotas.GetProperty("accounts").EnumerateArray());
        using (var client = new PortalClient(factory))
        {
            await client.SignInAsync(pi.Email!);
            Assert.Contains($"Pending: starts on {start:yyyy-MM-dd}", await client.GetPageAsync($"/Allocations/{allocation.Id}"), StringComparison.Ordinal);
            Assert.Contains($"starts on {start:yyyy-MM-dd}", await client.GetPageAsync("/Allocations"), StringComparison.Ordinal);
        }

        // Its start date: active, announced once, and its minutes go to the cluster.
        factory.Clock.Advance(TimeSpan.FromDays(5));
        await RunJobAsync();
        await RunJobAsync();
        await using var after = factory.NewDbContext();
        Assert.Equal(AllocationState.Active, (await after.Allocations.SingleAsync(a => a.Id == allocation.Id)).State);
        Assert.Equal([NotificationKinds.AllocationActive], await after.Notifications.Where(n => n.UserId == pi.Id).Select(n => n.Kind).ToListAsync());
        Assert.Equal(["created", "activated"], await after.AllocationEvents.Where(e => e.AllocationId == allocation.Id).OrderBy(e => e.Id).Select(e => e.Action).ToListAsync());
        quotas = JsonDocument.Parse(await api.GetStringAsync(new Uri($"/api/v1/clusters/{cluster.Slug}/quotas", UriKind.Relative))).RootElement;
        Assert.Equal("pending-acct", Assert.Single(quotas.GetProperty("accounts").EnumerateArray()).GetProperty("account").GetString());
    }

    [Fact]
    public async Task A_pending_allocation_cannot_be_started_early_but_may_change_its_account_or_be_closed()
    {
        var cluster = await factory.CreateClusterAsync("pendingrules");
        var period = await factory.CreatePeriodAsync("Pending rules period");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await factory.CreateUserAsync("pendingrules.pi@example.edu");
        var admin = await factory.CreateUserAsync("pendingrules.admin@program.example.org", [Identity.Roles.Admin, Identity.Roles.Researcher]);
        var allocation = await factory.GrantAsync(period, pi.Id, "Later", new Dictionary<Guid, decimal> { [cluster.Id] = 10m },
            account: "later-acct", start: factory.Today().AddDays(3), end: factory.Today().AddDays(30));

        var early = Assert.Throws<DomainException>(() => allocation.Activate(factory.Clock.GetUtcNow()));
        Assert.Contains("cannot be active before", early.Message, StringComparison.Ordinal);
        var suspend = await Assert.ThrowsAsync<DomainException>(() => factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().SuspendAsync(allocation.Id, "Too early", admin.Id)));
        Assert.Contains("pending cannot be suspended", suspend.Message, StringComparison.Ordinal);
        await factory.WithScopeAsync(async sp =>
        {
            var service = sp.GetRequiredService<AllocationService>();
            await service.ChangeSlurmAccountAsync(allocation.Id, "later-renamed", admin.Id);
            await service.CloseAsync(allocation.Id, "Withdrawn before it started.", admin.Id);
        });
        await using var db = factory.NewDbContext();
        var closed = await db.Allocations.SingleAsync(a => a.Id == allocation.Id);
        Assert.Equal(("later-renamed", AllocationState.Closed), (closed.SlurmAccount, closed.State));
    }
}

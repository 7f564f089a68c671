using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>The allocation notices of the notifications issue: each event produces its message, once.</summary>
public sealed class AllocationNoticeTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private Task RunJobAsync() => factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationLifecycleJob>().RunAsync());

    [Fact]
    public async Task A_new_allocation_is_announced_and_its_end_is_announced_30_and_7_days_ahead_once_each()
    {
        var cluster = await factory.CreateClusterAsync("notice");
        var period = await factory.CreatePeriodAsync("Notice period");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await factory.CreateUserAsync("notice.pi@example.edu");
        var allocation = await factory.GrantAsync(period, pi.Id, "Short project", new Dictionary<Guid, decimal> { [cluster.Id] = 100m },
            account: "short-acct", start: factory.Today().AddDays(-5), end: factory.Today().AddDays(20));

        await RunJobAsync();
        await RunJobAsync();
        factory.Clock.Advance(TimeSpan.FromDays(15));
        await RunJobAsync();
        await RunJobAsync();

        await using var db = factory.NewDbContext();
        var subjects = await db.OutboxMessages.Where(m => m.RecipientUserId == pi.Id).Select(m => new { m.Kind, m.Subject }).ToListAsync();
        Assert.Single(subjects, s => s.Kind == NotificationKinds.AllocationActive && s.Subject.Contains("Short project", StringComparison.Ordinal));
        var expiring = subjects.Where(s => s.Kind == NotificationKinds.AllocationExpiring).Select(s => s.Subject).Order(StringComparer.Ordinal).ToList();
        // Typed text reaches a notice only quoted (NotificationTemplates.TypedText).
        Assert.Equal(["Allocation expires in 30 days: “Short project”", "Allocation expires in 7 days: “Short project”"], expiring);
        Assert.True(await db.Notifications.AnyAsync(n => n.UserId == pi.Id && n.Kind == NotificationKinds.AllocationExpiring));
        Assert.Equal(AllocationState.Active, (await db.Allocations.SingleAsync(a => a.Id == allocation.Id)).State);
    }

    [Fact]
    public async Task Usage_for_an_unknown_account_notifies_every_admin_once_per_batch()
    {
        var cluster = await factory.CreateClusterAsync("unknown");
        var admin = await factory.CreateUserAsync("usage.admin@program.example.org", [Roles.Admin]);
        using var client = factory.ApiClient(await factory.CreateTokenAsync(cluster));
        using (var response = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(factory.Sacct(("9101", "ghost-acct", 1), ("9102", "ghost-acct", 2)))))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }
        // The same batch again adds nothing unmatched, so it raises no second notice.
        using (var again = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(factory.Sacct(("9101", "ghost-acct", 1), ("9102", "ghost-acct", 2)))))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, again.StatusCode);
        }
        await using var db = factory.NewDbContext();
        var notices = await db.OutboxMessages.Where(m => m.RecipientUserId == admin.Id && m.Kind == NotificationKinds.AdminUnmatchedUsage).ToListAsync();
        var notice = Assert.Single(notices);
        Assert.Contains("2 usage records", notice.TextBody, StringComparison.Ordinal);
        Assert.Contains("/Admin/Usage/Unmatched", notice.TextBody, StringComparison.Ordinal);
    }
}

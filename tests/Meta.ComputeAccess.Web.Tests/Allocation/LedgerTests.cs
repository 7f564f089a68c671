using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

public sealed class LedgerTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Ledger_and_history_rows_refuse_update_delete_and_truncate()
    {
        var cluster = await factory.CreateClusterAsync("ledger");
        var period = await factory.CreatePeriodAsync("Ledger period");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await factory.CreateUserAsync("ledger.pi@example.edu");
        await factory.GrantAsync(period, pi.Id, "Ledger project", new Dictionary<Guid, decimal> { [cluster.Id] = 100m });

        await using var db = factory.NewDbContext();
        foreach (var sql in new[]
        {
            "UPDATE ledger_entries SET hours = 1000000", "DELETE FROM ledger_entries", "TRUNCATE ledger_entries CASCADE",
            "UPDATE allocation_events SET detail = 'rewritten'", "DELETE FROM allocation_events",
        })
        {
            var ex = await Assert.ThrowsAsync<PostgresException>(() => db.Database.ExecuteSqlRawAsync(sql));
            Assert.Contains("append-only", ex.MessageText, StringComparison.Ordinal);
        }
        Assert.Equal(100m, await db.LedgerEntries.Where(e => e.ClusterId == cluster.Id).SumAsync(e => e.Hours));
    }

    [Fact]
    public async Task Closing_early_writes_off_the_unused_hours_and_returns_them_to_the_clusters_capacity()
    {
        var cluster = await factory.CreateClusterAsync("closing");
        var period = await factory.CreatePeriodAsync("Closing period");
        await factory.SetCapacityAsync(cluster, period, 150m);
        var pi = await factory.CreateUserAsync("closing.pi@example.edu");
        var admin = await factory.CreateUserAsync("closing.admin@example.org", [Identity.Roles.Admin]);
        var allocation = await factory.GrantAsync(period, pi.Id, "Ends early", new Dictionary<Guid, decimal> { [cluster.Id] = 100m }, account: "closing-acct");
        using (var api = factory.ApiClient(await factory.CreateTokenAsync(cluster)))
        {
            using var _ = await api.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(factory.Sacct(("8101", "closing-acct", 30))));
        }
        Task Grant120() => factory.GrantAsync(period, pi.Id, "Next project", new Dictionary<Guid, decimal> { [cluster.Id] = 120m });
        await Assert.ThrowsAsync<DomainException>(Grant120);

        var noReason = await Assert.ThrowsAsync<DomainException>(() =>
            factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CloseAsync(allocation.Id, " ", admin.Id)));
        Assert.Contains("reason", noReason.Message, StringComparison.Ordinal);
        await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CloseAsync(allocation.Id, "The PI left the institution.", admin.Id));

        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(AllocationState.Closed, (await db.Allocations.SingleAsync(a => a.Id == allocation.Id)).State);
            var expiry = await db.LedgerEntries.SingleAsync(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.Expiry);
            Assert.Equal(-70m, expiry.Hours);
            Assert.Contains("The PI left the institution.", expiry.Cause, StringComparison.Ordinal);
            Assert.Equal(0m, (await db.AllocationQuotas.SingleAsync(q => q.AllocationId == allocation.Id)).RemainingHours);
            Assert.Equal(30m, (await db.ClusterCapacities.SingleAsync(c => c.ClusterId == cluster.Id)).CommittedHours);
        }
        // The 70 hours are free again: a grant that did not fit before fits now.
        await Grant120();
        var twice = await Assert.ThrowsAsync<DomainException>(() =>
            factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CloseAsync(allocation.Id, "Again.", admin.Id)));
        Assert.Contains("closed", twice.Message, StringComparison.Ordinal);
        await using var check = factory.NewDbContext();
        Assert.Equal(150m, (await check.ClusterCapacities.SingleAsync(c => c.ClusterId == cluster.Id)).CommittedHours);
    }

    [Fact]
    public async Task Supplement_within_capacity_is_ledgered_and_shown_in_history_and_one_above_is_refused()
    {
        var cluster = await factory.CreateClusterAsync("supp");
        var period = await factory.CreatePeriodAsync("Supplement period");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await factory.CreateUserAsync("supp.pi@example.edu");
        var admin = await factory.CreateUserAsync("supp.admin@example.org", [Identity.Roles.Admin]);
        var allocation = await factory.GrantAsync(period, pi.Id, "Needs more", new Dictionary<Guid, decimal> { [cluster.Id] = 900m });

        // Asked 300, 100 free: approving all is refused, approving 80 of it works.
        var request = await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>()
            .RequestSupplementAsync(allocation.Id, cluster.Id, 300m, factory.Today().AddDays(120), "The model grew and needs a second training run.", pi.Id));
        var refused = await Assert.ThrowsAsync<DomainException>(() => factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>()
            .ApproveSupplementAsync(allocation.Id, request.Id, 300m, null, null, admin.Id)));
        Assert.Contains("Not enough capacity", refused.Message, StringComparison.Ordinal);
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(SupplementStatus.Pending, (await db.SupplementRequests.SingleAsync(s => s.Id == request.Id)).Status);
        }

        await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>()
            .ApproveSupplementAsync(allocation.Id, request.Id, 80m, factory.Today().AddDays(120), "Part of it; the rest next period.", admin.Id));

        await using var check = factory.NewDbContext();
        var supplement = await check.LedgerEntries.SingleAsync(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.Supplement);
        Assert.Equal(80m, supplement.Hours);
        Assert.Equal(request.Id, supplement.SupplementRequestId);
        Assert.Equal(980m, (await check.AllocationQuotas.SingleAsync(q => q.AllocationId == allocation.Id)).GrantedHours);
        Assert.Equal(980m, (await check.ClusterCapacities.SingleAsync(c => c.ClusterId == cluster.Id)).CommittedHours);
        Assert.Equal(factory.Today().AddDays(120), (await check.Allocations.SingleAsync(a => a.Id == allocation.Id)).EndDate);
        var history = await check.AllocationEvents.Where(e => e.AllocationId == allocation.Id).Select(e => e.Action).ToListAsync();
        Assert.Contains("supplement-requested", history);
        Assert.Contains("supplement-approved", history);
        Assert.Contains("extended", history);
        Assert.True(await check.OutboxMessages.AnyAsync(m => m.RecipientUserId == pi.Id && m.Kind == Meta.ComputeAccess.Notifications.NotificationKinds.SupplementDecided && m.Subject.Contains("decided")));
    }

    [Fact]
    public async Task Suspend_resume_and_illegal_transitions_are_recorded_or_refused()
    {
        var cluster = await factory.CreateClusterAsync("states");
        var period = await factory.CreatePeriodAsync("States period");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await factory.CreateUserAsync("states.pi@example.edu");
        var admin = await factory.CreateUserAsync("states.admin@example.org", [Identity.Roles.Admin]);
        var allocation = await factory.GrantAsync(period, pi.Id, "Stateful", new Dictionary<Guid, decimal> { [cluster.Id] = 10m });

        await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().SuspendAsync(allocation.Id, "Security incident", admin.Id));
        var again = await Assert.ThrowsAsync<DomainException>(() =>
            factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().SuspendAsync(allocation.Id, "Twice", admin.Id)));
        Assert.Contains("suspended cannot be suspended", again.Message, StringComparison.Ordinal);
        await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().ResumeAsync(allocation.Id, "Resolved", admin.Id));

        await using var db = factory.NewDbContext();
        var events = await db.AllocationEvents.Where(e => e.AllocationId == allocation.Id).OrderBy(e => e.Id).ToListAsync();
        Assert.Equal(["created", "suspended", "resumed"], events.Select(e => e.Action));
        Assert.Equal(AllocationState.Active, (await db.Allocations.SingleAsync(a => a.Id == allocation.Id)).State);
        Assert.Equal(2, await db.AuditEntries.CountAsync(a => a.SubjectId == allocation.Id.ToString() && a.ActorUserId == admin.Id));
    }
}

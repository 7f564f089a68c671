using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>The one way unmatched usage is resolved (<see cref="UnmatchedUsageResolution"/>), one job or a whole account at once.</summary>
public sealed class UnmatchedUsageTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private async Task<(Clusters.Cluster Cluster, Meta.ComputeAccess.Allocations.Allocation Allocation, Guid Admin)> ArrangeAsync(string slug, params (string JobId, string Account, int Gpus)[] jobs)
    {
        var cluster = await factory.CreateClusterAsync(slug);
        var period = await factory.CreatePeriodAsync("Period of " + slug);
        await factory.SetCapacityAsync(cluster, period, 10_000m);
        var pi = await factory.CreateUserAsync($"{slug}.pi@example.edu");
        var allocation = await factory.GrantAsync(period, pi.Id, "Project " + slug, new Dictionary<Guid, decimal> { [cluster.Id] = 100m }, account: slug + "-acct");
        using (var api = factory.ApiClient(await factory.CreateTokenAsync(cluster)))
        {
            using var posted = await api.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(factory.Sacct(jobs)));
            posted.EnsureSuccessStatusCode();
        }
        var admin = await factory.CreateUserAsync($"{slug}.admin@example.org", [Roles.Admin]);
        return (cluster, allocation, admin.Id);
    }

    private Task<T> ResolveAsync<T>(Func<UnmatchedUsageResolution, Task<T>> action) =>
        factory.WithScopeAsync(sp => action(sp.GetRequiredService<UnmatchedUsageResolution>()));

    [Fact]
    public async Task Assigning_one_job_charges_it_as_the_ingest_would_and_names_the_job_in_its_ledger_entry()
    {
        var (cluster, allocation, admin) = await ArrangeAsync("oneassign", ("5101", "oneassign-typo", 3));
        await using var db = factory.NewDbContext();
        var item = await db.UnmatchedUsage.SingleAsync(u => u.ClusterId == cluster.Id);

        Assert.Equal(1, await ResolveAsync(r => r.AssignAsync(UnmatchedSelection.One(item.Id), " oneassign-acct ", admin)));

        await using var check = factory.NewDbContext();
        var entry = await check.LedgerEntries.SingleAsync(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.Usage);
        Assert.Equal((-3m, "Job 5101 (account oneassign-typo, assigned by an admin)", "5101", (Guid?)admin), (entry.Hours, entry.Cause, entry.UsageJobId, entry.ActorUserId));
        Assert.Equal(3m, (await check.AllocationQuotas.SingleAsync(q => q.AllocationId == allocation.Id)).UsedHours);
        Assert.Equal(allocation.Id, (await check.UsageRecords.SingleAsync(u => u.ClusterId == cluster.Id && u.JobId == "5101")).AllocationId);
        var resolved = await check.UnmatchedUsage.SingleAsync(u => u.Id == item.Id);
        Assert.Equal((UnmatchedUsageStatus.Assigned, (Guid?)allocation.Id, "Charged to oneassign-acct"), (resolved.Status, resolved.AllocationId, resolved.Resolution));
        Assert.True(await check.AuditEntries.AnyAsync(a => a.Action == "usage.assigned" && a.ActorUserId == admin && EF.Functions.Like(a.Summary, "Job 5101 %")));
        // The job counts for its user on the allocation page, as if the ingest had charged it.
        var user = await check.AllocationUserUsage.SingleAsync(u => u.AllocationId == allocation.Id);
        Assert.Equal((1L, 3m), (user.Jobs, user.GpuHours));
        await LedgerInvariantTests.AssertUserTotalsAsync(check);
    }

    [Fact]
    public async Task Assigning_to_an_account_a_renewal_reused_charges_its_running_allocation()
    {
        var (cluster, first, admin) = await ArrangeAsync("renewassign", ("5151", "renewassign-typo", 2));
        await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CloseAsync(first.Id, "Replaced by its renewal.", admin));
        var period = await factory.CreatePeriodAsync("Renewal of renewassign");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var renewal = await factory.GrantAsync(period, first.PiUserId, "Project renewassign, year two", new Dictionary<Guid, decimal> { [cluster.Id] = 50m },
            account: "renewassign-acct", start: factory.Today(), end: factory.Today().AddDays(60));
        await using var db = factory.NewDbContext();
        var item = await db.UnmatchedUsage.SingleAsync(u => u.ClusterId == cluster.Id);

        Assert.Equal(1, await ResolveAsync(r => r.AssignAsync(UnmatchedSelection.One(item.Id), "renewassign-acct", admin)));

        await using var check = factory.NewDbContext();
        Assert.Equal(2m, (await check.AllocationQuotas.SingleAsync(q => q.AllocationId == renewal.Id)).UsedHours);
        Assert.Equal(0m, (await check.AllocationQuotas.SingleAsync(q => q.AllocationId == first.Id)).UsedHours);
        Assert.Equal(renewal.Id, (await check.UnmatchedUsage.SingleAsync(u => u.Id == item.Id)).AllocationId);
    }

    [Fact]
    public async Task An_assignment_refused_after_picking_the_jobs_changes_nothing()
    {
        var (cluster, _, admin) = await ArrangeAsync("nocluster", ("5201", "nocluster-typo", 2));
        // An allocation with hours on another cluster only: the job's cluster is found only once the row is picked.
        var elsewhere = await factory.CreateClusterAsync("nocluster-other");
        var period = await factory.CreatePeriodAsync("Other period of nocluster");
        await factory.SetCapacityAsync(elsewhere, period, 100m);
        var pi = await factory.CreateUserAsync("nocluster.other.pi@example.edu");
        var other = await factory.GrantAsync(period, pi.Id, "Elsewhere", new Dictionary<Guid, decimal> { [elsewhere.Id] = 10m }, account: "elsewhere-acct");
        await using var db = factory.NewDbContext();
        var item = await db.UnmatchedUsage.SingleAsync(u => u.ClusterId == cluster.Id);

        var ex = await Assert.ThrowsAsync<DomainException>(() => ResolveAsync(r => r.AssignAsync(UnmatchedSelection.One(item.Id), "elsewhere-acct", admin)));
        Assert.Contains("has no hours on that cluster", ex.Message, StringComparison.Ordinal);
        var unknown = await Assert.ThrowsAsync<DomainException>(() => ResolveAsync(r => r.AssignAsync(UnmatchedSelection.One(item.Id), "no-such-acct", admin)));
        Assert.Equal("No allocation has that Slurm account.", unknown.Message);

        await using var check = factory.NewDbContext();
        Assert.Equal(UnmatchedUsageStatus.Open, (await check.UnmatchedUsage.SingleAsync(u => u.Id == item.Id)).Status);
        Assert.Null((await check.UsageRecords.SingleAsync(u => u.ClusterId == cluster.Id && u.JobId == "5201")).AllocationId);
        Assert.False(await check.LedgerEntries.AnyAsync(e => e.AllocationId == other.Id && e.Kind == LedgerEntryKind.Usage));
        Assert.False(await check.AuditEntries.AnyAsync(a => a.Action == "usage.assigned" && a.ActorUserId == admin));
    }

    [Fact]
    public async Task Dismissing_one_job_needs_a_reason_and_keeps_it_and_a_second_resolution_is_refused()
    {
        var (cluster, _, admin) = await ArrangeAsync("onedismiss", ("5301", "onedismiss-typo", 1), ("5302", "onedismiss-typo", 1));
        await using var db = factory.NewDbContext();
        var item = await db.UnmatchedUsage.Where(u => u.ClusterId == cluster.Id).OrderBy(u => u.JobId).FirstAsync();

        var blank = await Assert.ThrowsAsync<DomainException>(() => ResolveAsync(r => r.DismissAsync(UnmatchedSelection.One(item.Id), "  ", admin)));
        Assert.StartsWith("Give a reason", blank.Message, StringComparison.Ordinal);
        Assert.Equal(1, await ResolveAsync(r => r.DismissAsync(UnmatchedSelection.One(item.Id), " Vendor test job. ", admin)));
        var twice = await Assert.ThrowsAsync<DomainException>(() => ResolveAsync(r => r.AssignAsync(UnmatchedSelection.One(item.Id), "onedismiss-acct", admin)));
        Assert.Equal("This usage was already dismissed.", twice.Message);

        await using var check = factory.NewDbContext();
        var rows = await check.UnmatchedUsage.Where(u => u.ClusterId == cluster.Id).OrderBy(u => u.JobId).ToListAsync();
        Assert.Equal((UnmatchedUsageStatus.Dismissed, "Vendor test job.", (Guid?)admin), (rows[0].Status, rows[0].Resolution, rows[0].ResolvedBy));
        Assert.Equal(UnmatchedUsageStatus.Open, rows[1].Status);
    }
}

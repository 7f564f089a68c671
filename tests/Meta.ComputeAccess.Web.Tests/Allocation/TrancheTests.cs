using System.Net;
using System.Text.Json;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>Awards released in tranches: committed at once, exported only once released.</summary>
public sealed class TrancheTests(PortalFactory factory) : LedgerInvariantTests(factory), IClassFixture<PortalFactory>
{
    private Task<Meta.ComputeAccess.Allocations.Allocation> GrantInTranchesAsync(AllocationPeriod period, Guid pi, Guid cluster, string account, decimal hours, params int[] tranches) =>
        Factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CreateAsync(
            new NewAllocation(period.Id, pi, "Project " + account, Factory.Today().AddDays(-10), Factory.Today().AddDays(90),
                new Dictionary<Guid, decimal> { [cluster] = hours }, SlurmAccount: account, Tranches: tranches), actor: null));

    private async Task<decimal> ExportedGrantAsync(HttpClient api, string cluster, string account)
    {
        var quotas = JsonDocument.Parse(await api.GetStringAsync(new Uri($"/api/v1/clusters/{cluster}/quotas", UriKind.Relative))).RootElement;
        return quotas.GetProperty("accounts").EnumerateArray().Single(a => a.GetProperty("account").GetString() == account).GetProperty("grantedGpuHours").GetDecimal();
    }

    [Fact]
    public async Task A_later_tranche_is_committed_in_capacity_but_exported_only_once_an_admin_releases_it_with_a_reason()
    {
        var cluster = await Factory.CreateClusterAsync("tranche");
        var period = await Factory.CreatePeriodAsync("Tranche period");
        await Factory.SetCapacityAsync(cluster, period, 1_500m);
        var pi = await Factory.CreateUserAsync("tranche.pi@example.edu");
        await Factory.CreateUserAsync("tranche.admin@example.org", [Identity.Roles.Admin]);
        var allocation = await GrantInTranchesAsync(period, pi.Id, cluster.Id, "halves", 1_000m, 50, 50);

        using var api = Factory.ApiClient(await Factory.CreateTokenAsync(cluster));
        Assert.Equal(500m, await ExportedGrantAsync(api, "tranche", "halves"));
        Assert.Contains("GrpTRESMins=gres/gpu=30000", await api.GetStringAsync(new Uri("/api/v1/clusters/tranche/quotas?format=sacctmgr", UriKind.Relative)), StringComparison.Ordinal);
        // The held half is committed: a grant of 600 does not fit in what is left of 1,500.
        await Assert.ThrowsAsync<DomainException>(() => Factory.GrantAsync(period, pi.Id, "Too big", new Dictionary<Guid, decimal> { [cluster.Id] = 600m }));

        using var admin = new PortalClient(Factory);
        await admin.SignInAsync("tranche.admin@example.org");
        var page = await admin.GetPageAsync($"/Admin/Allocations/Details?id={allocation.Id}");
        Assert.Contains("Release the next tranche", page, StringComparison.Ordinal);
        using (var noReason = await admin.PostFormAsync($"/Admin/Allocations/Details?id={allocation.Id}", new Dictionary<string, string> { ["reason"] = " " },
            $"/Admin/Allocations/Details?id={allocation.Id}&handler=ReleaseTranche"))
        {
            Assert.Equal(HttpStatusCode.OK, noReason.StatusCode);
            Assert.Contains("Give a reason; it is kept in the allocation&#x27;s history.", await noReason.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await using (var refusedCheck = Factory.NewDbContext())
        {
            Assert.False(await refusedCheck.LedgerEntries.AnyAsync(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.TrancheRelease));
            Assert.False(await refusedCheck.AllocationTranches.AnyAsync(t => t.AllocationId == allocation.Id && t.ReleasedAt != null && t.Number > 1));
        }
        Assert.Equal(500m, await ExportedGrantAsync(api, "tranche", "halves"));
        using (var released = await admin.PostFormAsync($"/Admin/Allocations/Details?id={allocation.Id}", new Dictionary<string, string> { ["reason"] = "Progress report read at the board meeting." },
            $"/Admin/Allocations/Details?id={allocation.Id}&handler=ReleaseTranche"))
        {
            Assert.Equal(HttpStatusCode.Redirect, released.StatusCode);
        }

        Assert.Equal(1_000m, await ExportedGrantAsync(api, "tranche", "halves"));
        await using var db = Factory.NewDbContext();
        var release = await db.LedgerEntries.AsNoTracking().SingleAsync(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.TrancheRelease);
        Assert.Equal(500m, release.Hours);
        Assert.Equal("Tranche 2 released: Progress report read at the board meeting.", release.Cause);
        Assert.Equal(1_000m, (await db.ClusterCapacities.SingleAsync(c => c.ClusterId == cluster.Id)).CommittedHours);
        var again = await Assert.ThrowsAsync<DomainException>(() => Factory.WithScopeAsync(sp =>
            sp.GetRequiredService<AllocationService>().ReleaseNextTrancheAsync(allocation.Id, "Again", null)));
        Assert.Contains("no tranche waiting", again.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Three_tranches_release_in_order_and_the_burn_down_shows_granted_released_and_used()
    {
        var cluster = await Factory.CreateClusterAsync("thirds");
        var period = await Factory.CreatePeriodAsync("Thirds period");
        await Factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await Factory.CreateUserAsync("thirds.pi@example.edu");
        var allocation = await GrantInTranchesAsync(period, pi.Id, cluster.Id, "thirds", 100m, 40, 30, 30);
        await Factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().ReleaseNextTrancheAsync(allocation.Id, "Progress report accepted", null));

        await using var db = Factory.NewDbContext();
        var quota = await db.AllocationQuotas.AsNoTracking().SingleAsync(q => q.AllocationId == allocation.Id);
        Assert.Equal((70m, 30m), (quota.GrantedHours, quota.HeldHours));
        var tranches = await db.AllocationTranches.AsNoTracking().Where(t => t.AllocationId == allocation.Id).OrderBy(t => t.Number).ToListAsync();
        Assert.Equal([(2, true), (3, false)], tranches.Select(t => (t.Number, t.ReleasedAt is not null)).ToArray());

        using var client = new PortalClient(Factory);
        await client.SignInAsync("thirds.pi@example.edu");
        var page = await client.GetPageAsync($"/Allocations/{allocation.Id}");
        Assert.Contains("Granted <strong>100</strong> accelerator-hours, of which released <strong>70</strong> and used <strong>0</strong>", page, StringComparison.Ordinal);
        Assert.Contains("waiting for an accepted progress report", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_accepted_scheduled_progress_report_releases_the_next_tranche_in_its_transaction_and_an_on_demand_or_final_one_does_not()
    {
        var cluster = await Factory.CreateClusterAsync("tranche-report");
        var period = await Factory.CreatePeriodAsync("Tranche report period");
        await Factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await Factory.CreateUserAsync("treport.pi@example.edu");
        var admin = await Factory.CreateUserAsync("treport.admin@example.org", [Identity.Roles.Admin]);
        var allocation = await GrantInTranchesAsync(period, pi.Id, cluster.Id, "report-parts", 400m, 50, 25, 25);
        using var api = Factory.ApiClient(await Factory.CreateTokenAsync(cluster));
        const string Narrative = "What the first half of the hours achieved, with the benchmarks we said we would run.";

        async Task AcceptAsync(ProgressReport report)
        {
            await using (var db = Factory.NewDbContext())
            {
                db.ProgressReports.Add(report);
                await db.SaveChangesAsync();
            }
            Assert.True(await Factory.WithScopeAsync(sp => sp.GetRequiredService<ProgressReports>().SubmitAsync(report.Id, pi.Id, Narrative, [])));
            Assert.True(await Factory.WithScopeAsync(sp => sp.GetRequiredService<ProgressReports>().AcceptAsync(report.AllocationId, report.Id, admin.Id)));
        }

        // A report an admin asked for on demand is a check, not the milestone: the tranche waits.
        await AcceptAsync(ProgressReport.AskNow(allocation.Id, Factory.Today().AddDays(14), admin.Id, Factory.Clock.GetUtcNow()));
        Assert.Equal(200m, await ExportedGrantAsync(api, "tranche-report", "report-parts"));

        await AcceptAsync(ProgressReport.Request(allocation.Id, ProgressReportKind.Progress, Factory.Today().AddDays(20), Factory.Clock.GetUtcNow()));
        Assert.Equal(300m, await ExportedGrantAsync(api, "tranche-report", "report-parts"));
        await using (var db = Factory.NewDbContext())
        {
            var release = await db.LedgerEntries.AsNoTracking().SingleAsync(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.TrancheRelease);
            Assert.Equal((100m, $"Tranche 2 released: progress report accepted on {Factory.Today():yyyy-MM-dd}", (Guid?)admin.Id), (release.Hours, release.Cause, release.ActorUserId));
            Assert.Equal(100m, (await db.AllocationQuotas.SingleAsync(q => q.AllocationId == allocation.Id)).HeldHours);
        }

        // The final report closes the books; the third tranche stays for an admin to release by hand.
        await AcceptAsync(ProgressReport.Request(allocation.Id, ProgressReportKind.Final, Factory.Today().AddDays(40), Factory.Clock.GetUtcNow()));
        Assert.Equal(300m, await ExportedGrantAsync(api, "tranche-report", "report-parts"));
        await using (var db = Factory.NewDbContext())
        {
            Assert.Equal(1, await db.LedgerEntries.CountAsync(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.TrancheRelease));
            Assert.Equal(3, await db.ProgressReports.CountAsync(r => r.AllocationId == allocation.Id && r.Status == ProgressReportStatus.Accepted));
        }
    }

    [Fact]
    public async Task Closing_early_returns_an_unreleased_tranche_to_the_clusters_capacity()
    {
        var cluster = await Factory.CreateClusterAsync("tranche-close");
        var period = await Factory.CreatePeriodAsync("Tranche close period");
        await Factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await Factory.CreateUserAsync("tclose.pi@example.edu");
        var admin = await Factory.CreateUserAsync("tclose.admin@example.org", [Identity.Roles.Admin]);
        var allocation = await GrantInTranchesAsync(period, pi.Id, cluster.Id, "closing-halves", 400m, 50, 50);

        await Factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CloseAsync(allocation.Id, "Project cancelled.", admin.Id));

        await using var db = Factory.NewDbContext();
        Assert.Equal(0m, (await db.ClusterCapacities.SingleAsync(c => c.ClusterId == cluster.Id)).CommittedHours);
        var tranche = await db.AllocationTranches.AsNoTracking().SingleAsync(t => t.AllocationId == allocation.Id);
        Assert.True(tranche.Cancelled);
        Assert.Equal(0m, (await db.AllocationQuotas.SingleAsync(q => q.AllocationId == allocation.Id)).HeldHours);
    }

    [Fact]
    public void Tranche_shares_add_up_exactly_and_bad_shares_are_refused()
    {
        Assert.Equal([3.3m, 3.3m, 3.4m], AllocationTranche.Split(10m, [33, 33, 34]));
        // Each share is rounded to 6 decimals; the last takes the remainder, so nothing is lost or made up.
        Assert.Equal([50m, 50.000001m], AllocationTranche.Split(100.000001m, [50, 50]));
        Assert.Throws<DomainException>(() => AllocationTranche.CheckPercents([50, 40]));
        Assert.Throws<DomainException>(() => AllocationTranche.CheckPercents([0, 100]));
    }
}

using System.Net;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>Moving hours between an allocation's clusters: by an admin, or at the PI's request; always within capacity.</summary>
public sealed class TransferTests(PortalFactory factory) : LedgerInvariantTests(factory), IClassFixture<PortalFactory>
{
    private Task TransferAsync(Guid allocation, Guid from, Guid to, decimal hours, Guid admin) =>
        Factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().TransferAsync(allocation, from, to, hours, "Moving work to the other cluster", admin));

    [Fact]
    public async Task A_hundred_concurrent_transfers_and_grants_never_exceed_either_clusters_capacity()
    {
        var a = await Factory.CreateClusterAsync("crowd-a");
        var b = await Factory.CreateClusterAsync("crowd-b");
        var period = await Factory.CreatePeriodAsync("Crowded transfers");
        await Factory.SetCapacityAsync(a, period, 2_000m);
        await Factory.SetCapacityAsync(b, period, 600m);
        var pi = await Factory.CreateUserAsync("crowdt.pi@example.edu");
        var admin = await Factory.CreateUserAsync("crowdt.admin@example.org", [Identity.Roles.Admin]);
        var mover = await Factory.GrantAsync(period, pi.Id, "Mover", new Dictionary<Guid, decimal> { [a.Id] = 1_000m, [b.Id] = 100m }, account: "mover");

        // 50 transfers of 10 from A to B and 50 grants of 20 on B, all at once: B has 500 free, asked for 1,500.
        using var start = new SemaphoreSlim(0);
        var attempts = Enumerable.Range(0, 100).Select(async i =>
        {
            await start.WaitAsync();
            try
            {
                if (i % 2 == 0)
                {
                    await TransferAsync(mover.Id, a.Id, b.Id, 10m, admin.Id);
                }
                else
                {
                    await Factory.GrantAsync(period, pi.Id, $"Crowd {i}", new Dictionary<Guid, decimal> { [b.Id] = 20m }, account: $"crowd-{i}");
                }
                return (Transfer: i % 2 == 0, Ok: true, Message: "");
            }
            catch (DomainException ex)
            {
                return (Transfer: i % 2 == 0, Ok: false, ex.Message);
            }
        }).ToList();
        start.Release(100);
        var results = await Task.WhenAll(attempts);

        Assert.All(results.Where(r => !r.Ok), r => Assert.Contains("Not enough capacity on Cluster crowd-b", r.Message, StringComparison.Ordinal));
        var moved = results.Count(r => r.Transfer && r.Ok) * 10m;
        var granted = results.Count(r => !r.Transfer && r.Ok) * 20m;
        Assert.True(moved + granted <= 500m);
        Assert.True(moved + granted > 480m, "the free hours are used up, not left idle by refusals");
        await using var db = Factory.NewDbContext();
        var capacities = await db.ClusterCapacities.AsNoTracking().Where(c => c.PeriodId == period.Id).ToDictionaryAsync(c => c.ClusterId);
        Assert.Equal(100m + moved + granted, capacities[b.Id].CommittedHours);
        Assert.Equal(1_000m - moved, capacities[a.Id].CommittedHours);
        var quotas = await db.AllocationQuotas.AsNoTracking().Where(q => q.AllocationId == mover.Id).ToDictionaryAsync(q => q.ClusterId);
        Assert.Equal((1_000m - moved, 100m + moved), (quotas[a.Id].GrantedHours, quotas[b.Id].GrantedHours));
        // Both sides of every transfer are in the ledger.
        Assert.Equal(moved, await db.LedgerEntries.Where(e => e.AllocationId == mover.Id && e.Kind == LedgerEntryKind.TransferIn).SumAsync(e => e.Hours));
        Assert.Equal(-moved, await db.LedgerEntries.Where(e => e.AllocationId == mover.Id && e.Kind == LedgerEntryKind.TransferOut).SumAsync(e => e.Hours));
    }

    [Fact]
    public async Task The_pi_asks_to_move_hours_to_a_cluster_the_allocation_did_not_have_and_an_admin_approves()
    {
        var h100 = await Factory.CreateClusterAsync("move-h100");
        var mtia = await Factory.CreateClusterAsync("move-mtia");
        var period = await Factory.CreatePeriodAsync("Move period");
        await Factory.SetCapacityAsync(h100, period, 1_000m);
        await Factory.SetCapacityAsync(mtia, period, 1_000m);
        await Factory.WithScopeAsync(sp => sp.GetRequiredService<Clusters.ChargePolicies>()
            .AddVersionAsync(mtia.Id, Factory.Clock.GetUtcNow(), "gres/gpu=1/2", "", "MTIA at half", Guid.Empty));
        var pi = await Factory.CreateUserAsync("move.pi@example.edu");
        await Factory.CreateUserAsync("move.other@example.edu");
        await Factory.CreateUserAsync("move.admin@example.org", [Identity.Roles.Admin]);
        var allocation = await Factory.GrantAsync(period, pi.Id, "Moving project", new Dictionary<Guid, decimal> { [h100.Id] = 300m }, account: "moving");

        using var other = new PortalClient(Factory);
        await other.SignInAsync("move.other@example.edu");
        using (var notYours = await other.GetAsync($"/Allocations/{allocation.Id}/Transfer"))
        {
            Assert.Equal(HttpStatusCode.NotFound, notYours.StatusCode);
        }
        using var client = new PortalClient(Factory);
        await client.SignInAsync("move.pi@example.edu");
        var form = WebUtility.HtmlDecode(await client.GetPageAsync($"/Allocations/{allocation.Id}/Transfer"));
        // One unit buys two MTIA-hours.
        Assert.Contains("<td>Cluster move-mtia</td><td class=\"text-end\">—</td><td>2 gres/gpu hours</td>", form, StringComparison.Ordinal);
        var fields = new Dictionary<string, string>
        {
            ["Input.FromClusterId"] = h100.Id.ToString(), ["Input.ToClusterId"] = mtia.Id.ToString(), ["Input.Hours"] = "500",
            ["Input.Justification"] = "Inference runs better on MTIA; move the serving budget there.",
        };
        using (var tooMuch = await client.PostFormAsync($"/Allocations/{allocation.Id}/Transfer", fields))
        {
            Assert.Equal(HttpStatusCode.OK, tooMuch.StatusCode);
            Assert.Contains("Only 300 hours remain", await tooMuch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        fields["Input.Hours"] = "100";
        using (var asked = await client.PostFormAsync($"/Allocations/{allocation.Id}/Transfer", fields))
        {
            Assert.Equal(HttpStatusCode.Redirect, asked.StatusCode);
        }
        await using (var db = Factory.NewDbContext())
        {
            Assert.Equal(0m, await db.LedgerEntries.Where(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.TransferIn).SumAsync(e => e.Hours));
        }

        using var admin = new PortalClient(Factory);
        await admin.SignInAsync("move.admin@example.org");
        var requestId = await Factory.WithScopeAsync(async sp => await sp.GetRequiredService<Data.PortalDbContext>().TransferRequests
            .Where(t => t.AllocationId == allocation.Id).Select(t => t.Id).SingleAsync());
        // The request named on another allocation's page is no request of that allocation: refused, nothing moves.
        var elsewhere = await Factory.GrantAsync(period, pi.Id, "Another project", new Dictionary<Guid, decimal> { [h100.Id] = 10m }, account: "elsewhere");
        using (var mismatched = await admin.PostFormAsync($"/Admin/Allocations/Details?id={elsewhere.Id}", new Dictionary<string, string> { ["requestId"] = requestId.ToString(), ["message"] = "Agreed." },
            $"/Admin/Allocations/Details?id={elsewhere.Id}&handler=ApproveTransfer"))
        {
            Assert.Equal(HttpStatusCode.OK, mismatched.StatusCode);
            Assert.Contains("No such request.", await mismatched.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await using (var db = Factory.NewDbContext())
        {
            Assert.Equal(SupplementStatus.Pending, await db.TransferRequests.Where(t => t.Id == requestId).Select(t => t.Status).SingleAsync());
        }
        using (var approved = await admin.PostFormAsync($"/Admin/Allocations/Details?id={allocation.Id}", new Dictionary<string, string> { ["requestId"] = requestId.ToString(), ["message"] = "Agreed." },
            $"/Admin/Allocations/Details?id={allocation.Id}&handler=ApproveTransfer"))
        {
            Assert.Equal(HttpStatusCode.Redirect, approved.StatusCode);
        }

        await using var check = Factory.NewDbContext();
        var quotas = await check.AllocationQuotas.AsNoTracking().Where(q => q.AllocationId == allocation.Id).ToDictionaryAsync(q => q.ClusterId);
        Assert.Equal((200m, 100m), (quotas[h100.Id].GrantedHours, quotas[mtia.Id].GrantedHours));
        var sides = await check.LedgerEntries.AsNoTracking().Where(e => e.AllocationId == allocation.Id && (e.Kind == LedgerEntryKind.TransferIn || e.Kind == LedgerEntryKind.TransferOut)).ToListAsync();
        Assert.Equal(2, sides.Count);
        Assert.Single(sides.Select(e => e.RecordedAt).Distinct());
        Assert.Contains(sides, e => e.Cause.StartsWith("Moved to Cluster move-mtia: Transfer requested by the PI, approved: Agreed.", StringComparison.Ordinal));
        Assert.Equal(SupplementStatus.Approved, await check.TransferRequests.Where(t => t.Id == requestId).Select(t => t.Status).SingleAsync());
        // The request is the PI's data: their download has it, with the admin's answer.
        using (var export = await client.PostFormAsync("/Account/Security", new Dictionary<string, string>(), "/Account/Security?handler=Export"))
        {
            using var json = System.Text.Json.JsonDocument.Parse(await export.Content.ReadAsStringAsync());
            var mine = Assert.Single(json.RootElement.GetProperty("transferRequestsYouMade").EnumerateArray());
            Assert.Equal(("Inference runs better on MTIA; move the serving budget there.", "Approved", "Agreed."),
                (mine.GetProperty("justification").GetString(), mine.GetProperty("status").GetString(), mine.GetProperty("decisionMessage").GetString()));
        }
        // The MTIA cluster enforces its own hours: 100 units are 200 MTIA-hours.
        using var api = Factory.ApiClient(await Factory.CreateTokenAsync(mtia));
        Assert.Contains("GrpTRESMins=gres/gpu=12000", await api.GetStringAsync(new Uri("/api/v1/clusters/move-mtia/quotas?format=sacctmgr", UriKind.Relative)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_transfer_beyond_what_remains_or_without_capacity_is_refused_and_changes_nothing()
    {
        var a = await Factory.CreateClusterAsync("refuse-a");
        var b = await Factory.CreateClusterAsync("refuse-b");
        var noCapacity = await Factory.CreateClusterAsync("refuse-c");
        var period = await Factory.CreatePeriodAsync("Refusals");
        await Factory.SetCapacityAsync(a, period, 1_000m);
        await Factory.SetCapacityAsync(b, period, 1_000m);
        var pi = await Factory.CreateUserAsync("refuse.pi@example.edu");
        var admin = await Factory.CreateUserAsync("refuse.admin@example.org", [Identity.Roles.Admin]);
        var allocation = await Factory.GrantAsync(period, pi.Id, "Refused", new Dictionary<Guid, decimal> { [a.Id] = 50m }, account: "refused");

        var tooMuch = await Assert.ThrowsAsync<DomainException>(() => TransferAsync(allocation.Id, a.Id, b.Id, 60m, admin.Id));
        Assert.Contains("Only 50 hours remain", tooMuch.Message, StringComparison.Ordinal);
        var nowhere = await Assert.ThrowsAsync<DomainException>(() => TransferAsync(allocation.Id, a.Id, noCapacity.Id, 10m, admin.Id));
        Assert.Contains("No capacity is set for Cluster refuse-c", nowhere.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<DomainException>(() => TransferAsync(allocation.Id, a.Id, a.Id, 10m, admin.Id));

        await using var db = Factory.NewDbContext();
        Assert.Equal(1, await db.AllocationQuotas.CountAsync(q => q.AllocationId == allocation.Id));
        Assert.Equal(50m, await db.ClusterCapacities.Where(c => c.ClusterId == a.Id).Select(c => c.CommittedHours).SingleAsync());
        Assert.Equal(0m, await db.ClusterCapacities.Where(c => c.ClusterId == b.Id).Select(c => c.CommittedHours).SingleAsync());
    }
}

using System.Globalization;
using System.Net;
using System.Text.Json;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>Charge policies end to end: priced usage, the version in the ledger, native hours in the export, the admin page.</summary>
public sealed class ChargeRateTests(PortalFactory factory) : LedgerInvariantTests(factory), IClassFixture<PortalFactory>
{
    private Task<ChargePolicy> AddVersionAsync(Cluster cluster, DateTimeOffset from, string rates, string multipliers = "", Guid? admin = null) =>
        Factory.WithScopeAsync(sp => sp.GetRequiredService<ChargePolicies>().AddVersionAsync(cluster.Id, from, rates, multipliers, "Rates for the test", admin ?? Guid.Empty));

    /// <summary>A sacct body of the agent's columns; each job ends <paramref name="endedAgo"/> before the clock, ran its hours and holds its TRES.</summary>
    private string Body(params (string JobId, string Account, string Tres, string Partition, decimal Hours, TimeSpan EndedAgo)[] jobs)
    {
        var lines = new List<string> { "JobID|Account|User|Submit|Start|End|ElapsedRaw|AllocTRES|State|Partition" };
        foreach (var (jobId, account, tres, partition, hours, endedAgo) in jobs)
        {
            var end = Factory.Clock.GetUtcNow().UtcDateTime - endedAgo;
            var start = end.AddSeconds(-(double)(hours * 3600));
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{jobId}|{account}|alice|{start.AddMinutes(-5):yyyy-MM-ddTHH:mm:ss}|{start:yyyy-MM-ddTHH:mm:ss}|{end:yyyy-MM-ddTHH:mm:ss}|{(long)(hours * 3600)}|{tres}|COMPLETED|{partition}"));
        }
        return string.Join('\n', lines) + "\n";
    }

    private async Task<JsonElement> PostAsync(Cluster cluster, string body)
    {
        using var api = Factory.ApiClient(await Factory.CreateTokenAsync(cluster));
        using var response = await api.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task An_mtia_cluster_at_half_rate_and_a_mig_partition_charge_units_and_the_ledger_names_the_version()
    {
        var mtia = await Factory.CreateClusterAsync("rate-mtia");
        var h100 = await Factory.CreateClusterAsync("rate-h100");
        var period = await Factory.CreatePeriodAsync("Rates period");
        await Factory.SetCapacityAsync(mtia, period, 10_000m);
        await Factory.SetCapacityAsync(h100, period, 10_000m);
        var mtiaRates = await AddVersionAsync(mtia, Factory.Clock.GetUtcNow(), "gres/gpu=1/2");
        var h100Rates = await AddVersionAsync(h100, Factory.Clock.GetUtcNow(), "gres/gpu=1\ngres/gpu:1g.10gb=1/7", "preempt=0.5");
        Factory.Clock.Advance(TimeSpan.FromHours(12));
        var pi = await Factory.CreateUserAsync("rates.pi@example.edu");
        var allocation = await Factory.GrantAsync(period, pi.Id, "Rated project", new Dictionary<Guid, decimal> { [mtia.Id] = 100m, [h100.Id] = 100m }, account: "rated");

        var onMtia = await PostAsync(mtia, Body(("701", "rated", "billing=8,cpu=8,gres/gpu=4,node=1", "mtia", 2m, TimeSpan.FromHours(1))));
        var onH100 = await PostAsync(h100, Body(
            ("801", "rated", "cpu=2,gres/gpu:1g.10gb=1,gres/gpu=1", "mig", 7m, TimeSpan.FromHours(1)),
            ("802", "rated", "cpu=64,gres/gpu:h100=8,gres/gpu=8", "preempt", 1m, TimeSpan.FromHours(1))));

        // 4 MTIA × 2 h at 0.5 = 4 units for 8 GPU-hours; a 1g.10gb slice for 7 h = 1 unit; 8 H100 × 1 h at 0.5× = 4.
        Assert.Equal(8m, onMtia.GetProperty("chargedGpuHours").GetDecimal());
        Assert.Equal(4m, onMtia.GetProperty("chargedHours").GetDecimal());
        Assert.Equal(5m, onH100.GetProperty("chargedHours").GetDecimal());
        await using var db = Factory.NewDbContext();
        var usage = await db.LedgerEntries.AsNoTracking().Where(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.Usage).ToListAsync();
        Assert.Equal(-4m, usage.Where(e => e.ClusterId == mtia.Id).Sum(e => e.Hours));
        Assert.All(usage.Where(e => e.ClusterId == mtia.Id), e => Assert.Equal(mtiaRates.Id, e.ChargePolicyId));
        Assert.All(usage.Where(e => e.ClusterId == h100.Id), e => Assert.Equal(h100Rates.Id, e.ChargePolicyId));
        var mig = await db.UsageRecords.AsNoTracking().SingleAsync(u => u.ClusterId == h100.Id && u.JobId == "801");
        Assert.Equal(1m, mig.ChargedHours);
        Assert.Equal(7m, mig.GpuHours);
        Assert.Equal(h100Rates.Id, mig.ChargePolicyId);

        // The MTIA cluster enforces its own hours: 100 units are 200 MTIA-hours, 4 used are 8.
        using var api = Factory.ApiClient(await Factory.CreateTokenAsync(mtia));
        var quotas = JsonDocument.Parse(await api.GetStringAsync(new Uri("/api/v1/clusters/rate-mtia/quotas", UriKind.Relative))).RootElement;
        var row = Assert.Single(quotas.GetProperty("accounts").EnumerateArray());
        Assert.Equal(200m, row.GetProperty("grantedGpuHours").GetDecimal());
        Assert.Equal(8m, row.GetProperty("usedGpuHours").GetDecimal());
        var sacctmgr = await api.GetStringAsync(new Uri("/api/v1/clusters/rate-mtia/quotas?format=sacctmgr", UriKind.Relative));
        Assert.Contains("name=rated cluster=slurm-rate-mtia set GrpTRESMins=gres/gpu=12000", sacctmgr, StringComparison.Ordinal);

        // The allocation page shows the unit and the cluster's own hours.
        using var client = new PortalClient(Factory);
        await client.SignInAsync("rates.pi@example.edu");
        var page = await client.GetPageAsync($"/Allocations/{allocation.Id}");
        Assert.Contains("accelerator-hours", page, StringComparison.Ordinal);
        Assert.Contains("192 gres/gpu h", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rate_change_mid_allocation_charges_each_job_by_the_version_in_force_at_its_end()
    {
        var cluster = await Factory.CreateClusterAsync("rate-change");
        var period = await Factory.CreatePeriodAsync("Rate change period");
        await Factory.SetCapacityAsync(cluster, period, 10_000m);
        var pi = await Factory.CreateUserAsync("change.pi@example.edu");
        var allocation = await Factory.GrantAsync(period, pi.Id, "Changing rates", new Dictionary<Guid, decimal> { [cluster.Id] = 1_000m }, account: "changing");
        var first = await AddVersionAsync(cluster, Factory.Clock.GetUtcNow(), "gres/gpu=1");
        var change = Factory.Clock.GetUtcNow().AddDays(2);
        var second = await AddVersionAsync(cluster, change, "gres/gpu=1/4");
        Factory.Clock.Advance(TimeSpan.FromDays(4));

        // One batch: a job ending a day before the change, one a day after.
        await PostAsync(cluster, Body(
            ("1", "changing", "gres/gpu=4", "", 1m, TimeSpan.FromDays(3)),
            ("2", "changing", "gres/gpu=4", "", 1m, TimeSpan.FromDays(1))));

        await using var db = Factory.NewDbContext();
        var entries = await db.LedgerEntries.AsNoTracking().Where(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.Usage).OrderBy(e => e.EffectiveAt).ToListAsync();
        Assert.Equal([(first.Id, -4m), (second.Id, -1m)], entries.Select(e => (e.ChargePolicyId!.Value, e.Hours)).ToArray());
        Assert.Equal(5m, await db.AllocationQuotas.Where(q => q.AllocationId == allocation.Id).Select(q => q.UsedHours).SingleAsync());
    }

    [Fact]
    public async Task Versions_take_effect_from_now_on_in_order_and_are_never_rewritten()
    {
        var cluster = await Factory.CreateClusterAsync("rate-rules");
        var now = Factory.Clock.GetUtcNow();
        var past = await Assert.ThrowsAsync<DomainException>(() => AddVersionAsync(cluster, now.AddDays(-1), "gres/gpu=2"));
        Assert.Contains("now or later", past.Message, StringComparison.Ordinal);
        await AddVersionAsync(cluster, now.AddDays(5), "gres/gpu=2");
        var before = await Assert.ThrowsAsync<DomainException>(() => AddVersionAsync(cluster, now.AddDays(4), "gres/gpu=3"));
        Assert.Contains("after it", before.Message, StringComparison.Ordinal);
        var unreadable = await Assert.ThrowsAsync<DomainException>(() => AddVersionAsync(cluster, now.AddDays(6), "gres/gpu:mtia=0.5"));
        Assert.True(unreadable.Fields.ContainsKey("Rates"));

        await using var db = Factory.NewDbContext();
        Assert.Equal(1, await db.ChargePolicies.CountAsync(p => p.ClusterId == cluster.Id));
        foreach (var sql in new[] { "UPDATE charge_policies SET rates_text = 'gres/gpu=9'", "DELETE FROM charge_policies" })
        {
            var ex = await Assert.ThrowsAsync<PostgresException>(() => db.Database.ExecuteSqlRawAsync(sql));
            Assert.Contains("append-only", ex.MessageText, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_admin_adds_a_version_on_the_rates_page_and_a_refusal_is_shown_beside_the_field()
    {
        var cluster = await Factory.CreateClusterAsync("rate-page");
        await Factory.CreateUserAsync("rates.admin@example.org", [Identity.Roles.Admin]);
        using var admin = new PortalClient(Factory);
        await admin.SignInAsync("rates.admin@example.org");
        var page = await admin.GetPageAsync("/Admin/Clusters/Rates/rate-page");
        Assert.Contains("No version yet", page, StringComparison.Ordinal);

        var when = Factory.Clock.GetUtcNow().UtcDateTime.AddDays(1).ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture);
        using (var bad = await admin.PostFormAsync("/Admin/Clusters/Rates/rate-page", new Dictionary<string, string>
        {
            ["Input.EffectiveFrom"] = when, ["Input.Rates"] = "gres/gpu:mtia=1/2", ["Input.Multipliers"] = "", ["Input.Note"] = "MTIA at half",
        }))
        {
            Assert.Equal(HttpStatusCode.OK, bad.StatusCode);
            Assert.Contains("Typed GPU rates need a gres/gpu rate", WebUtility.HtmlDecode(await bad.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        using (var good = await admin.PostFormAsync("/Admin/Clusters/Rates/rate-page", new Dictionary<string, string>
        {
            ["Input.EffectiveFrom"] = when, ["Input.Rates"] = "gres/gpu=1\ngres/gpu:mtia=1/2", ["Input.Multipliers"] = "preempt=0.5", ["Input.Note"] = "MTIA at half",
        }))
        {
            Assert.Equal(HttpStatusCode.Redirect, good.StatusCode);
        }
        await using var db = Factory.NewDbContext();
        var version = await db.ChargePolicies.AsNoTracking().SingleAsync(p => p.ClusterId == cluster.Id);
        Assert.Equal((1, "gres/gpu=1\ngres/gpu:mtia=1/2", "preempt=0.5"), (version.Version, version.RatesText, version.MultipliersText));
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "cluster.rates" && a.SubjectId == cluster.Id.ToString()));
    }

    [Fact]
    public async Task The_agents_plan_limits_the_released_hours_in_the_clusters_native_tres_minutes_as_the_quota_export_does()
    {
        var cluster = await Factory.CreateClusterAsync("rate-plan");
        var period = await Factory.CreatePeriodAsync("Rate plan period");
        await Factory.SetCapacityAsync(cluster, period, 10_000m);
        // An hour of this cluster's GPUs is half a unit: 100 units are 200 native GPU-hours.
        await AddVersionAsync(cluster, Factory.Clock.GetUtcNow(), "gres/gpu=1/2");
        Factory.Clock.Advance(TimeSpan.FromHours(1));
        var pi = await Factory.CreateUserAsync("rateplan.pi@example.edu");
        var allocation = await Factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CreateAsync(
            new NewAllocation(period.Id, pi.Id, "Planned project", Factory.Today().AddDays(-1), Factory.Today().AddDays(90),
                new Dictionary<Guid, decimal> { [cluster.Id] = 200m }, SlurmAccount: "rate-planned", Tranches: [50, 50]), actor: null));

        using var api = Factory.ApiClient(await Factory.CreateTokenAsync(cluster));
        async Task<(long Plan, decimal Exported, string Text, string Tres)> LimitsAsync()
        {
            var plan = JsonDocument.Parse(await api.GetStringAsync(new Uri("/api/v1/clusters/rate-plan/associations", UriKind.Relative))).RootElement;
            var planned = plan.GetProperty("accounts").EnumerateArray().Single(a => a.GetProperty("account").GetString() == "rate-planned");
            var quotas = JsonDocument.Parse(await api.GetStringAsync(new Uri("/api/v1/clusters/rate-plan/quotas", UriKind.Relative))).RootElement;
            var exported = quotas.GetProperty("accounts").EnumerateArray().Single(a => a.GetProperty("account").GetString() == "rate-planned");
            return (planned.GetProperty("limitTresMinutes").GetInt64(), exported.GetProperty("grantedGpuHours").GetDecimal(),
                await api.GetStringAsync(new Uri("/api/v1/clusters/rate-plan/quotas?format=sacctmgr", UriKind.Relative)), plan.GetProperty("tres").GetString()!);
        }

        // Half released: 100 units = 200 native hours = 12,000 GPU-minutes, in the plan, the JSON and the sacctmgr text alike.
        var before = await LimitsAsync();
        Assert.Equal((12_000L, 200m, "gres/gpu"), (before.Plan, before.Exported, before.Tres));
        Assert.Contains("set GrpTRESMins=gres/gpu=12000", before.Text, StringComparison.Ordinal);

        await Factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().ReleaseNextTrancheAsync(allocation.Id, "Progress report accepted", null));
        var after = await LimitsAsync();
        Assert.Equal((24_000L, 400m), (after.Plan, after.Exported));
        Assert.Contains("set GrpTRESMins=gres/gpu=24000", after.Text, StringComparison.Ordinal);

        // A new version charging billing first: the plan's TRES and limit follow it from its effective time.
        await AddVersionAsync(cluster, Factory.Clock.GetUtcNow().AddHours(1), "billing=1/10\ngres/gpu=1/2");
        Assert.Equal(24_000L, (await LimitsAsync()).Plan);
        Factory.Clock.Advance(TimeSpan.FromHours(2));
        var billed = await LimitsAsync();
        Assert.Equal((120_000L, 2_000m, "billing"), (billed.Plan, billed.Exported, billed.Tres));
        Assert.Contains("set GrpTRESMins=billing=120000", billed.Text, StringComparison.Ordinal);
    }
}

using System.Net;
using System.Text;
using System.Text.Json;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>
/// <c>POST /api/v1/clusters/{cluster}/sync-reports</c>: checked, stored once, append-only, and shown on the allocation
/// page and Admin → Clusters → sync status; a cluster whose agent went quiet is flagged and its admins told once.
/// </summary>
public sealed class SyncReportTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    /// <summary>A report as mca-sync 1.0.0 sends it (deploy/cluster/README.md), for the given accounts.</summary>
    private static string Report(string accounts, bool dryRun = false, string started = "2026-11-28T10:00:00Z", string finished = "2026-11-28T10:00:09Z") => $$"""
        { "agentVersion": "1.0.0", "planEtag": "\"4200527bc1f4ccc9\"", "startedAt": "{{started}}",
          "finishedAt": "{{finished}}", "dryRun": {{(dryRun ? "true" : "false")}}, "accounts": [ {{accounts}} ] }
        """;

    /// <summary>An empty report of a run that started now by the portal's clock.</summary>
    private string ReportNow()
    {
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        return Report("", started: now.ToString("yyyy-MM-ddTHH:mm:ssZ"), finished: now.AddSeconds(9).ToString("yyyy-MM-ddTHH:mm:ssZ"));
    }

    private static string Applied(string account, Guid allocationId, long limit, string added, string inSlurm) => $$"""
        { "account": "{{account}}", "allocationId": "{{allocationId}}", "outcome": "applied", "inSlurm": true,
          "limitApplied": {{limit}}, "usageResetEpoch": "{{allocationId}}", "membersAdded": [{{added}}], "membersRemoved": [],
          "membersInSlurm": [{{inSlurm}}], "usageInSlurmTresMinutes": 12, "error": null }
        """;

    private static string Missing(string account, Guid allocationId) => $$"""
        { "account": "{{account}}", "allocationId": "{{allocationId}}", "outcome": "failed", "inSlurm": false, "limitApplied": null,
          "usageResetEpoch": null, "membersAdded": [], "membersRemoved": [], "membersInSlurm": [], "usageInSlurmTresMinutes": null,
          "error": "account not in Slurm (create_accounts=no: a Slurm admin creates it)" }
        """;

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static Uri ReportsOf(string slug) => new($"/api/v1/clusters/{slug}/sync-reports", UriKind.Relative);

    [Fact]
    public async Task A_report_is_stored_once_and_the_allocation_and_admin_pages_show_each_accounts_outcome()
    {
        var cluster = await factory.CreateClusterAsync("syncrep");
        var period = await factory.CreatePeriodAsync("Sync report period");
        await factory.SetCapacityAsync(cluster, period, 10_000m);
        var admin = await factory.CreateUserAsync("syncrep.admin@program.example.org", [Roles.Admin, Roles.Researcher]);
        var pi = await factory.CreateUserAsync("syncrep.pi@example.edu");
        var member = await factory.CreateUserAsync("syncrep.member@example.edu");
        var applied = await factory.GrantAsync(period, pi.Id, "Applied project", new Dictionary<Guid, decimal> { [cluster.Id] = 100m }, account: "rep-applied");
        var missing = await factory.GrantAsync(period, pi.Id, "Missing project", new Dictionary<Guid, decimal> { [cluster.Id] = 100m }, account: "rep-missing");
        await factory.SetLoginAsync(cluster, pi, "reppi", admin.Id);
        await factory.SetLoginAsync(cluster, member, "repmember", admin.Id);
        await factory.AddMemberAsync(applied, member);
        using var api = factory.ApiClient(await factory.CreateTokenAsync(cluster));
        var body = Report(Missing("rep-missing", missing.Id) + "," + Applied("rep-applied", applied.Id, 6000, "\"repmember\"", "\"repmember\", \"reppi\""));

        using (var response = await api.PostAsync(ReportsOf(cluster.Slug), Json(body)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.False(answer.GetProperty("duplicate").GetBoolean());
            Assert.Equal(2, answer.GetProperty("accounts").GetInt32());
            Assert.Equal(1, answer.GetProperty("failed").GetInt32());
        }
        // Sent again after a lost answer: stored once.
        using (var again = await api.PostAsync(ReportsOf(cluster.Slug), Json(body)))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.True(JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("duplicate").GetBoolean());
        }
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(1, await db.ClusterSyncReports.CountAsync(r => r.ClusterId == cluster.Id));
            var outcomes = await db.ClusterSyncOutcomes.Where(o => o.ClusterId == cluster.Id).OrderBy(o => o.Account).ToListAsync();
            Assert.Equal([applied.Id, missing.Id], outcomes.Select(o => o.AllocationId!.Value));
            Assert.Equal(["repmember", "reppi"], outcomes[0].MembersInSlurm);
            // History of what the clusters said is append-only.
            var ex = await Assert.ThrowsAsync<PostgresException>(() => db.Database.ExecuteSqlRawAsync("UPDATE cluster_sync_outcomes SET error = 'rewritten'"));
            Assert.Contains("append-only", ex.MessageText, StringComparison.Ordinal);
        }

        using var piClient = new PortalClient(factory);
        await piClient.SignInAsync(pi.Email!);
        var page = WebUtility.HtmlDecode(await piClient.GetPageAsync($"/Allocations/{applied.Id}"));
        Assert.Contains("limit applied: 6,000 GPU-minutes", page, StringComparison.Ordinal);
        Assert.Contains("member added: repmember", page, StringComparison.Ordinal);
        Assert.Contains("in Slurm", page, StringComparison.Ordinal);
        var missingPage = WebUtility.HtmlDecode(await piClient.GetPageAsync($"/Allocations/{missing.Id}"));
        Assert.Contains("not in Slurm", missingPage, StringComparison.Ordinal);
        Assert.Contains("failed: account not in Slurm (create_accounts=no: a Slurm admin creates it)", missingPage, StringComparison.Ordinal);

        using var adminClient = new PortalClient(factory);
        await adminClient.SignInAsync(admin.Email!);
        var sync = WebUtility.HtmlDecode(await adminClient.GetPageAsync($"/Admin/Clusters/Sync/{cluster.Slug}"));
        Assert.Contains("2 accounts, 1 failed", sync, StringComparison.Ordinal);
        Assert.Contains("failed: account not in Slurm", sync, StringComparison.Ordinal);
        Assert.Contains("limit applied: 6,000 GPU-minutes", sync, StringComparison.Ordinal);
        Assert.DoesNotContain("has not called the portal since", sync, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dry_run_is_stored_but_does_not_change_what_the_allocation_page_says()
    {
        var cluster = await factory.CreateClusterAsync("syncdry");
        var period = await factory.CreatePeriodAsync("Dry run period");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await factory.CreateUserAsync("syncdry.pi@example.edu");
        var allocation = await factory.GrantAsync(period, pi.Id, "Dry project", new Dictionary<Guid, decimal> { [cluster.Id] = 10m }, account: "rep-dry");
        using var api = factory.ApiClient(await factory.CreateTokenAsync(cluster));
        using (var real = await api.PostAsync(ReportsOf(cluster.Slug), Json(Report(Applied("rep-dry", allocation.Id, 600, "", "")))))
        {
            Assert.Equal(HttpStatusCode.OK, real.StatusCode);
        }
        using (var dry = await api.PostAsync(ReportsOf(cluster.Slug), Json(Report(Missing("rep-dry", allocation.Id), dryRun: true))))
        {
            Assert.Equal(HttpStatusCode.OK, dry.StatusCode);
        }
        using var client = new PortalClient(factory);
        await client.SignInAsync(pi.Email!);
        var page = WebUtility.HtmlDecode(await client.GetPageAsync($"/Allocations/{allocation.Id}"));
        Assert.Contains("limit applied: 600 GPU-minutes", page, StringComparison.Ordinal);
        Assert.DoesNotContain("not in Slurm", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_reports_get_400_with_reasons_and_store_nothing()
    {
        var cluster = await factory.CreateClusterAsync("syncbad");
        var other = await factory.CreateClusterAsync("syncbadother");
        using var api = factory.ApiClient(await factory.CreateTokenAsync(cluster));
        var ok = Report("""{ "account": "a", "outcome": "applied", "inSlurm": true }""");
        var bodies = new (string Name, HttpContent Content, HttpStatusCode Status, string Reason)[]
        {
            ("not json", Json("{ accounts: "), HttpStatusCode.BadRequest, "not valid JSON"),
            ("invalid utf-8", new ByteArrayContent([(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}']), HttpStatusCode.BadRequest, "not valid UTF-8"),
            ("an array", Json("[]"), HttpStatusCode.BadRequest, "JSON object"),
            ("no accounts", Json("""{ "startedAt": "2026-11-28T10:00:00Z", "finishedAt": "2026-11-28T10:00:09Z", "dryRun": false }"""), HttpStatusCode.BadRequest, "accounts: required"),
            ("bad outcome", Json(Report("""{ "account": "a", "outcome": "done", "inSlurm": true }""")), HttpStatusCode.BadRequest, "accounts[0].outcome"),
            ("string limit", Json(Report("""{ "account": "a", "outcome": "applied", "inSlurm": true, "limitApplied": "600" }""")), HttpStatusCode.BadRequest, "accounts[0].limitApplied"),
            ("negative usage", Json(Report("""{ "account": "a", "outcome": "applied", "inSlurm": true, "usageInSlurmTresMinutes": -1 }""")), HttpStatusCode.BadRequest, "usageInSlurmTresMinutes"),
            ("NUL in a name", Json(Report("""{ "account": "a\u0000b", "outcome": "applied", "inSlurm": true }""")), HttpStatusCode.BadRequest, "control character"),
            ("lone surrogate", Json(Report("""{ "account": "a", "outcome": "failed", "inSlurm": true, "error": "\ud800" }""")), HttpStatusCode.BadRequest, "accounts[0].error"),
            ("long login", Json(Report($$"""{ "account": "a", "outcome": "applied", "inSlurm": true, "membersAdded": ["{{new string('u', 101)}}"] }""")), HttpStatusCode.BadRequest, "membersAdded[0]"),
            ("no offset", Json(Report("""{ "account": "a", "outcome": "applied", "inSlurm": true }""", started: "2026-11-28T10:00:00")), HttpStatusCode.BadRequest, "startedAt"),
            ("far future", Json(Report("""{ "account": "a", "outcome": "applied", "inSlurm": true }""", started: "2999-01-01T00:00:00Z")), HttpStatusCode.BadRequest, "startedAt"),
            ("wrong type", new StringContent(ok, Encoding.UTF8, "text/plain"), HttpStatusCode.UnsupportedMediaType, "application/json"),
        };
        foreach (var (name, content, status, reason) in bodies)
        {
            if (content.Headers.ContentType is null)
            {
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            }
            using (content)
            using (var response = await api.PostAsync(ReportsOf(cluster.Slug), content))
            {
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == status, $"{name}: {(int)response.StatusCode} {text}");
                Assert.Contains(reason, text, StringComparison.Ordinal);
            }
        }
        using (var forbidden = await api.PostAsync(ReportsOf(other.Slug), Json(ok)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }
        await using var db = factory.NewDbContext();
        Assert.False(await db.ClusterSyncReports.AnyAsync(r => r.ClusterId == cluster.Id || r.ClusterId == other.Id));
    }

    [Fact]
    public async Task A_cluster_whose_agent_stops_reporting_is_flagged_and_its_admins_are_told_once_per_silence()
    {
        var cluster = await factory.CreateClusterAsync("syncquiet");
        var admin = await factory.CreateUserAsync("syncquiet.admin@program.example.org", [Roles.Admin, Roles.Researcher]);
        using var api = factory.ApiClient(await factory.CreateTokenAsync(cluster));
        // Signed in afresh each time: the clock jumps past the session's idle timeout.
        async Task<string> AdminPageAsync(string url)
        {
            using var client = new PortalClient(factory);
            await client.SignInAsync(admin.Email!);
            return await client.GetPageAsync(url);
        }
        Task WatchAsync() => factory.WithScopeAsync(sp => sp.GetRequiredService<ClusterSyncWatchJob>().RunAsync());
        async Task<int> NoticesAsync()
        {
            await using var db = factory.NewDbContext();
            return await db.Notifications.CountAsync(n => n.UserId == admin.Id && n.Kind == NotificationKinds.AdminClusterSilent && n.Title.Contains("Cluster syncquiet"));
        }

        var syncPage = $"/Admin/Clusters/Sync/{cluster.Slug}";
        using (var first = await api.PostAsync(ReportsOf(cluster.Slug), Json(ReportNow())))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        await WatchAsync();
        Assert.DoesNotContain("has not called the portal since", await AdminPageAsync(syncPage), StringComparison.Ordinal);
        Assert.Equal(0, await NoticesAsync());

        // An agent whose plan is unchanged only fetches it (304) and sends no report: still heard from, not silent.
        factory.Clock.Advance(ClusterSyncReports.StaleAfter - TimeSpan.FromMinutes(30));
        using (var plan = await api.GetAsync(new Uri($"/api/v1/clusters/{cluster.Slug}/associations", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, plan.StatusCode);
        }
        factory.Clock.Advance(TimeSpan.FromMinutes(45));
        await WatchAsync();
        Assert.DoesNotContain("has not called the portal since", await AdminPageAsync(syncPage), StringComparison.Ordinal);
        Assert.Equal(0, await NoticesAsync());

        factory.Clock.Advance(ClusterSyncReports.StaleAfter + TimeSpan.FromMinutes(1));
        Assert.Contains("has not called the portal since", await AdminPageAsync(syncPage), StringComparison.Ordinal);
        Assert.Contains("silent since", await AdminPageAsync("/Admin/Clusters"), StringComparison.Ordinal);
        await WatchAsync();
        await WatchAsync();
        Assert.Equal(1, await NoticesAsync());

        // It reports again, then goes quiet again: a new silence, a new notice.
        using (var back = await api.PostAsync(ReportsOf(cluster.Slug), Json(ReportNow())))
        {
            Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        }
        Assert.DoesNotContain("has not called the portal since", await AdminPageAsync(syncPage), StringComparison.Ordinal);
        factory.Clock.Advance(ClusterSyncReports.StaleAfter + TimeSpan.FromMinutes(1));
        await WatchAsync();
        Assert.Equal(2, await NoticesAsync());
    }
}

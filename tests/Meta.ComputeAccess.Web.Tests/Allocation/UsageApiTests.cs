using System.Net;
using System.Text.Json;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

public sealed class UsageApiTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private async Task<(Clusters.Cluster Cluster, Meta.ComputeAccess.Allocations.Allocation Allocation, string Token)> ArrangeAsync(string slug, string account, decimal hours = 1_000m)
    {
        var cluster = await factory.CreateClusterAsync(slug);
        var period = await factory.CreatePeriodAsync("Period of " + slug);
        await factory.SetCapacityAsync(cluster, period, 100_000m);
        var pi = await factory.CreateUserAsync($"{slug}.pi@example.edu");
        var allocation = await factory.GrantAsync(period, pi.Id, "Project " + slug, new Dictionary<Guid, decimal> { [cluster.Id] = hours }, account: account);
        return (cluster, allocation, await factory.CreateTokenAsync(cluster));
    }

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task The_same_batch_twice_is_charged_once_and_the_ledger_matches_the_usage()
    {
        var (cluster, allocation, token) = await ArrangeAsync("idem", "idem-acct");
        using var client = factory.ApiClient(token);
        var body = factory.Sacct(("1001", "idem-acct", 4), ("1002", "idem-acct", 2), ("1003_7", "idem-acct", 1), ("1004+1", "idem-acct", 8));

        using var first = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(body));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var a = await JsonOf(first);
        Assert.Equal(4, a.GetProperty("accepted").GetInt32());
        Assert.Equal(4, a.GetProperty("charged").GetInt32());
        Assert.Equal(4, a.GetProperty("skippedSteps").GetInt32());
        Assert.Equal(15m, a.GetProperty("chargedGpuHours").GetDecimal());

        using var second = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(body));
        var b = await JsonOf(second);
        Assert.Equal(0, b.GetProperty("accepted").GetInt32());
        Assert.Equal(4, b.GetProperty("duplicate").GetInt32());

        await using var db = factory.NewDbContext();
        var usageLedger = await db.LedgerEntries.Where(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.Usage).SumAsync(e => e.Hours);
        var usage = await db.UsageRecords.Where(u => u.ClusterId == cluster.Id).SumAsync(u => u.GpuHours);
        Assert.Equal(-15m, usageLedger);
        Assert.Equal(15m, usage);
        Assert.Equal(15m, (await db.AllocationQuotas.SingleAsync(q => q.AllocationId == allocation.Id)).UsedHours);
    }

    [Fact]
    public async Task A_batch_overlapping_an_earlier_one_charges_only_its_new_jobs()
    {
        var (cluster, allocation, token) = await ArrangeAsync("overlap", "overlap-acct");
        using var client = factory.ApiClient(token);
        using (var first = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative),
                   AllocationWorld.SacctContent(factory.Sacct(("6001", "overlap-acct", 1), ("6002", "overlap-acct", 2)))))
        {
            Assert.Equal(2, (await JsonOf(first)).GetProperty("accepted").GetInt32());
        }
        // The cron job's window overlaps the last run: 6002 again, plus a new GPU job and a new CPU-only job.
        using var second = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative),
            AllocationWorld.SacctContent(factory.Sacct(("6002", "overlap-acct", 2), ("6003", "overlap-acct", 4), ("6004", "overlap-acct", 0))));
        var json = await JsonOf(second);
        Assert.Equal(2, json.GetProperty("accepted").GetInt32());
        Assert.Equal(1, json.GetProperty("duplicate").GetInt32());
        Assert.Equal(2, json.GetProperty("charged").GetInt32());
        Assert.Equal(4m, json.GetProperty("chargedGpuHours").GetDecimal());

        await using var db = factory.NewDbContext();
        var entries = await db.LedgerEntries.Where(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.Usage).OrderBy(e => e.Id).ToListAsync();
        // One entry per batch and job-end day; a job without GPU-hours charges nothing and makes no entry.
        Assert.Equal([-3m, -4m], entries.Select(e => e.Hours));
        Assert.StartsWith("2 jobs ended ", entries[0].Cause, StringComparison.Ordinal);
        Assert.Equal("Job 6003", entries[1].Cause);
        Assert.Equal(4, await db.UsageRecords.CountAsync(u => u.ClusterId == cluster.Id));
        Assert.Equal(7m, (await db.AllocationQuotas.SingleAsync(q => q.AllocationId == allocation.Id)).UsedHours);
    }

    [Fact]
    public async Task Times_are_read_in_the_clusters_time_zone_across_daylight_saving()
    {
        var (cluster, _, token) = await ArrangeAsync("tz", "tz-acct");
        await using (var db = factory.NewDbContext())
        {
            var row = await db.Clusters.SingleAsync(c => c.Id == cluster.Id);
            row.Update(row.Name, row.AcceleratorModel, row.Nodes, row.AcceleratorsPerNode, row.SlurmClusterName, "America/New_York");
            await db.SaveChangesAsync();
        }
        using var client = factory.ApiClient(token);
        var body = "JobID|Account|User|Start|End|ElapsedRaw|AllocTRES|State\n"
            + "7001|tz-acct|alice|2026-03-01T09:00:00|2026-03-01T10:00:00|3600|gres/gpu=1|COMPLETED\n"   // EST, UTC-5
            + "7002|tz-acct|alice|2026-07-01T09:00:00|2026-07-01T10:00:00|3600|gres/gpu=1|COMPLETED\n";  // EDT, UTC-4
        using var response = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(body));
        Assert.Equal(2, (await JsonOf(response)).GetProperty("accepted").GetInt32());

        await using var check = factory.NewDbContext();
        var ends = await check.UsageRecords.Where(u => u.ClusterId == cluster.Id).OrderBy(u => u.JobId).Select(u => u.EndedAt).ToListAsync();
        Assert.Equal([new DateTimeOffset(2026, 3, 1, 15, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 7, 1, 14, 0, 0, TimeSpan.Zero)], ends);
    }

    [Fact]
    public async Task Pending_and_malformed_lines_are_reported_while_good_lines_are_taken()
    {
        var (_, _, token) = await ArrangeAsync("mixed", "mixed-acct");
        using var client = factory.ApiClient(token);
        var body = factory.Sacct(("2001", "mixed-acct", 1))
            + "2002|mixed-acct|bob|2026-01-01T00:00:00|Unknown|10|gres/gpu=1|RUNNING\n"
            + "this line is broken\n"
            + new string('9', 70) + "|mixed-acct|bob|2026-01-01T00:00:00|2026-01-01T01:00:00|3600|gres/gpu=1|COMPLETED\n";
        using var response = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(body));
        var json = await JsonOf(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, json.GetProperty("accepted").GetInt32());
        Assert.Equal(1, json.GetProperty("pending").GetInt32());
        Assert.Equal(2, json.GetProperty("rejected").GetInt32());
        Assert.Equal(5, json.GetProperty("rejections")[0].GetProperty("line").GetInt32());
        Assert.Equal(6, json.GetProperty("rejections")[1].GetProperty("line").GetInt32());
        Assert.Contains("too long", json.GetProperty("rejections")[1].GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unmatched_usage_is_kept_and_an_admin_can_assign_it_which_charges_it()
    {
        var (cluster, allocation, token) = await ArrangeAsync("unm", "unm-acct");
        using var client = factory.ApiClient(token);
        using var response = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative),
            AllocationWorld.SacctContent(factory.Sacct(("3001", "typo-acct", 2), ("3002", "unm-acct", 1))));
        var json = await JsonOf(response);
        Assert.Equal(1, json.GetProperty("unmatched").GetInt32());
        Assert.Equal(1, json.GetProperty("charged").GetInt32());

        await using var db = factory.NewDbContext();
        var item = await db.UnmatchedUsage.SingleAsync(u => u.ClusterId == cluster.Id);
        Assert.Equal("typo-acct", item.Account);
        Assert.Equal(2m, item.GpuHours);
        Assert.Equal(UnmatchedUsageStatus.Open, item.Status);

        var admin = await factory.CreateUserAsync("unm.admin@example.org", [Identity.Roles.Admin]);
        await factory.WithScopeAsync(sp => sp.GetRequiredService<UnmatchedUsageResolution>().AssignAsync(UnmatchedSelection.One(item.Id), allocation.SlurmAccount, admin.Id));
        await using var after = factory.NewDbContext();
        Assert.Equal(UnmatchedUsageStatus.Assigned, (await after.UnmatchedUsage.SingleAsync(u => u.Id == item.Id)).Status);
        Assert.Equal(-3m, await after.LedgerEntries.Where(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.Usage).SumAsync(e => e.Hours));
        Assert.Equal(3m, (await after.AllocationQuotas.SingleAsync(q => q.AllocationId == allocation.Id)).UsedHours);
        var twice = await Assert.ThrowsAsync<DomainException>(() =>
            factory.WithScopeAsync(sp => sp.GetRequiredService<UnmatchedUsageResolution>().AssignAsync(UnmatchedSelection.One(item.Id), allocation.SlurmAccount, admin.Id)));
        Assert.Contains("already assigned", twice.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admin_resolves_all_unmatched_jobs_of_an_account_at_once_and_only_once()
    {
        var (cluster, allocation, token) = await ArrangeAsync("bulk", "bulk-acct");
        using (var api = factory.ApiClient(token))
        {
            // A typo in the job scripts' account, and a stranger's account.
            using var posted = await api.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(factory.Sacct(
                ("8001", "bulk-acc", 2), ("8002", "bulk-acc", 1), ("8003", "bulk-acc", 0), ("8004", "stranger", 4), ("8005", "stranger", 1))));
            Assert.Equal(5, (await JsonOf(posted)).GetProperty("unmatched").GetInt32());
        }
        var admin = await factory.CreateUserAsync("bulk.admin@example.org", [Identity.Roles.Admin]);
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);
        var page = await client.GetPageAsync("/Admin/Usage/Unmatched");
        Assert.Contains("<code>bulk-acc</code>", page, StringComparison.Ordinal);
        Dictionary<string, string> Group(string jobsAccount, string field, string value) => new()
        {
            ["clusterId"] = cluster.Id.ToString(), ["jobsAccount"] = jobsAccount, [field] = value,
        };

        using (var assigned = await client.PostFormAsync("/Admin/Usage/Unmatched", Group("bulk-acc", "account", "bulk-acct"), "/Admin/Usage/Unmatched?handler=AssignAll"))
        {
            Assert.Equal(HttpStatusCode.Redirect, assigned.StatusCode);
        }
        Assert.Contains("3 jobs of bulk-acc charged to bulk-acct.", await client.GetPageAsync("/Admin/Usage/Unmatched"), StringComparison.Ordinal);
        using (var again = await client.PostFormAsync("/Admin/Usage/Unmatched", Group("bulk-acc", "account", "bulk-acct"), "/Admin/Usage/Unmatched?handler=AssignAll"))
        {
            // Refused: the page is shown again with the reason above the lists (PageActions.RunAsync).
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Contains("has no open unmatched usage", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await using (var db = factory.NewDbContext())
        {
            // Charged once: one day entry for the two jobs with GPU-hours, the cached quota in step, the records linked.
            var entries = await db.LedgerEntries.Where(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.Usage).ToListAsync();
            var entry = Assert.Single(entries);
            Assert.Equal(-3m, entry.Hours);
            Assert.StartsWith("2 jobs of account bulk-acc ended ", entry.Cause, StringComparison.Ordinal);
            Assert.Equal(3m, (await db.AllocationQuotas.SingleAsync(q => q.AllocationId == allocation.Id)).UsedHours);
            Assert.Equal(3, await db.UsageRecords.CountAsync(u => u.ClusterId == cluster.Id && u.AllocationId == allocation.Id));
            Assert.All(await db.UnmatchedUsage.Where(u => u.Account == "bulk-acc").ToListAsync(), u => Assert.Equal(UnmatchedUsageStatus.Assigned, u.Status));
        }

        using (var noReason = await client.PostFormAsync("/Admin/Usage/Unmatched", Group("stranger", "reason", " "), "/Admin/Usage/Unmatched?handler=DismissAll"))
        {
            Assert.Equal(HttpStatusCode.OK, noReason.StatusCode);
            Assert.Contains("Give a reason", await noReason.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var dismissed = await client.PostFormAsync("/Admin/Usage/Unmatched", Group("stranger", "reason", "Test jobs of the vendor's engineers."), "/Admin/Usage/Unmatched?handler=DismissAll"))
        {
            Assert.Equal(HttpStatusCode.Redirect, dismissed.StatusCode);
        }
        await using var check = factory.NewDbContext();
        var stranger = await check.UnmatchedUsage.Where(u => u.Account == "stranger").ToListAsync();
        Assert.Equal(2, stranger.Count);
        Assert.All(stranger, u => Assert.Equal((UnmatchedUsageStatus.Dismissed, "Test jobs of the vendor's engineers."), (u.Status, u.Resolution)));
        var after = await client.GetPageAsync("/Admin/Usage/Unmatched");
        Assert.DoesNotContain("<code>stranger</code>", after, StringComparison.Ordinal);
        Assert.DoesNotContain("<code>bulk-acc</code>", after, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unmatched_usage_is_not_charged_to_a_closed_allocation()
    {
        var (cluster, allocation, token) = await ArrangeAsync("closedassign", "closedassign-acct");
        using (var api = factory.ApiClient(token))
        {
            using var posted = await api.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(factory.Sacct(("8101", "closedassign-ac", 2))));
            Assert.Equal(1, (await JsonOf(posted)).GetProperty("unmatched").GetInt32());
        }
        var admin = await factory.CreateUserAsync("closedassign.admin@example.org", [Identity.Roles.Admin]);
        await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CloseAsync(allocation.Id, "Project ended.", admin.Id));
        await using var db = factory.NewDbContext();
        var item = await db.UnmatchedUsage.SingleAsync(u => u.ClusterId == cluster.Id);

        var single = await Assert.ThrowsAsync<DomainException>(() => factory.WithScopeAsync(sp =>
            sp.GetRequiredService<UnmatchedUsageResolution>().AssignAsync(UnmatchedSelection.One(item.Id), allocation.SlurmAccount, admin.Id)));
        var bulk = await Assert.ThrowsAsync<DomainException>(() => factory.WithScopeAsync(sp =>
            sp.GetRequiredService<UnmatchedUsageResolution>().AssignAsync(UnmatchedSelection.AllOf(cluster.Id, "closedassign-ac"), allocation.SlurmAccount, admin.Id)));
        Assert.All(new[] { single, bulk }, ex => Assert.Contains("closed", ex.Message, StringComparison.Ordinal));
        await using var check = factory.NewDbContext();
        Assert.Equal(UnmatchedUsageStatus.Open, (await check.UnmatchedUsage.SingleAsync(u => u.Id == item.Id)).Status);
        Assert.Equal(0, await check.LedgerEntries.CountAsync(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.Usage));
    }

    [Fact]
    public async Task A_failure_in_the_middle_of_a_batch_leaves_nothing_recorded_or_charged()
    {
        var (cluster, allocation, token) = await ArrangeAsync("fail", "fail-acct");
        await using (var db = factory.NewDbContext())
        {
            // Keeping the unmatched job is the last write of the batch: it fails after the usage rows, the ledger entry and the quota were written.
            await db.Database.ExecuteSqlRawAsync("""
                CREATE FUNCTION fail_on_nobody() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'injected failure'; END $$;
                CREATE TRIGGER fail_on_nobody BEFORE INSERT ON unmatched_usage FOR EACH ROW
                    WHEN (NEW.account = 'nobody') EXECUTE FUNCTION fail_on_nobody();
                """);
        }
        using var client = factory.ApiClient(token);
        using var response = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative),
            AllocationWorld.SacctContent(factory.Sacct(("4001", "fail-acct", 1), ("4002", "fail-acct", 1), ("4003", "nobody", 1))));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);

        await using var check = factory.NewDbContext();
        Assert.Equal(0, await check.UsageRecords.CountAsync(u => u.ClusterId == cluster.Id));
        Assert.Equal(0, await check.UnmatchedUsage.CountAsync(u => u.ClusterId == cluster.Id));
        Assert.Equal(0, await check.LedgerEntries.CountAsync(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.Usage));
        Assert.Equal(0m, (await check.AllocationQuotas.SingleAsync(q => q.AllocationId == allocation.Id)).UsedHours);
    }

    [Fact]
    public async Task A_token_of_another_cluster_gets_403_and_a_revoked_or_missing_token_401()
    {
        var (clusterA, _, tokenA) = await ArrangeAsync("scope-a", "scope-a-acct");
        var (clusterB, _, tokenB) = await ArrangeAsync("scope-b", "scope-b-acct");
        using var clientA = factory.ApiClient(tokenA);

        using (var quotas = await clientA.GetAsync(new Uri($"/api/v1/clusters/{clusterB.Slug}/quotas", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, quotas.StatusCode);
        }
        using (var post = await clientA.PostAsync(new Uri($"/api/v1/usage?cluster={clusterB.Slug}", UriKind.Relative),
                   AllocationWorld.SacctContent(factory.Sacct(("5001", "scope-b-acct", 1)))))
        {
            Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        }
        // Without naming a cluster, A's token posts for A: B's account is unknown there, so nothing reaches B.
        using (var own = await clientA.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(factory.Sacct(("5002", "scope-b-acct", 1)))))
        {
            Assert.Equal(1, (await JsonOf(own)).GetProperty("unmatched").GetInt32());
        }
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(0, await db.UsageRecords.CountAsync(u => u.ClusterId == clusterB.Id));
            var tokenRow = await db.ClusterTokens.SingleAsync(t => t.ClusterId == clusterA.Id);
            Assert.NotNull(tokenRow.LastUsedAt);
            // Only the hash of the secret is stored.
            Assert.Equal(Clusters.ClusterToken.Hash(tokenA), tokenRow.SecretHash);
            await factory.WithScopeAsync(sp => sp.GetRequiredService<Clusters.ClusterTokens>().RevokeAsync(tokenRow.Id, null));
        }
        using (var revoked = await clientA.GetAsync(new Uri($"/api/v1/clusters/{clusterA.Slug}/quotas", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        }
        using var anonymous = factory.CreateClient();
        using (var none = await anonymous.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent("x")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        }
        using var clientB = factory.ApiClient(tokenB);
        using var fine = await clientB.GetAsync(new Uri($"/api/v1/clusters/{clusterB.Slug}/quotas", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
    }

    [Fact]
    public async Task Wrong_content_type_gets_415_and_garbage_or_empty_bodies_get_400_with_a_message()
    {
        var (_, _, token) = await ArrangeAsync("bad", "bad-acct");
        using var client = factory.ApiClient(token);
        using (var json = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), new StringContent("{}", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
            Assert.Contains("text/plain", (await JsonOf(json)).GetProperty("error").GetString(), StringComparison.Ordinal);
        }
        using (var empty = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent("")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
            Assert.Equal("The body has no sacct header line.", (await JsonOf(empty)).GetProperty("error").GetString());
        }
        using (var garbage = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent("hello world\nmore garbage\n")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
            Assert.Contains("header", (await JsonOf(garbage)).GetProperty("error").GetString(), StringComparison.Ordinal);
        }
        using var ndjson = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), new StringContent("not json\n", System.Text.Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.BadRequest, ndjson.StatusCode);
    }

    // ---------------------------------------------------------------- plausible input only

    private const string AgentHeader = "JobID|Account|User|Submit|Start|End|ElapsedRaw|AllocTRES|State|Partition";

    private static string Utc(DateTime time) => time.ToString("yyyy-MM-ddTHH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A job line as the cluster agent's sacct format prints it (times in UTC, the cluster's zone in these tests).</summary>
    private static string AgentLine(string jobId, string account, string user, DateTime submit, DateTime start, DateTime end, long elapsed, int gpus) =>
        $"{jobId}|{account}|{user}|{Utc(submit)}|{Utc(start)}|{Utc(end)}|{elapsed}|billing=8,cpu=8,gres/gpu={gpus},node=1|COMPLETED|h100";

    private DateTime Yesterday => factory.Clock.GetUtcNow().UtcDateTime.Date.AddDays(-1).AddHours(12);

    private Task<HttpResponseMessage> PostAsync(HttpClient client, string body) =>
        client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(body));

    private async Task<(decimal Used, decimal Ledger, int Records)> ChargesAsync(Guid clusterId, Guid allocationId)
    {
        await using var db = factory.NewDbContext();
        return ((await db.AllocationQuotas.SingleAsync(q => q.AllocationId == allocationId)).UsedHours,
            await db.LedgerEntries.Where(e => e.AllocationId == allocationId && e.Kind == LedgerEntryKind.Usage).SumAsync(e => e.Hours),
            await db.UsageRecords.CountAsync(u => u.ClusterId == clusterId));
    }

    [Fact]
    public async Task A_year_of_elapsed_time_on_8_gpus_ending_a_second_after_its_start_is_rejected_and_charges_nothing()
    {
        var (cluster, allocation, token) = await ArrangeAsync("plausible", "plausible-acct", hours: 1_000m);
        using var client = factory.ApiClient(token);
        var end = Yesterday;
        // The job (70,080 GPU-hours claimed against a 1,000-hour allocation), then an honest one.
        var body = AgentHeader + "\n"
            + AgentLine("4242", "plausible-acct", "mallory", end.AddHours(-1), end.AddSeconds(-1), end, 365L * 24 * 3600, 8) + "\n"
            + AgentLine("4243", "plausible-acct", "alice", end.AddHours(-2), end.AddHours(-1), end, 3600, 2) + "\n";

        using var response = await PostAsync(client, body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await JsonOf(response);
        Assert.Equal(1, json.GetProperty("charged").GetInt32());
        Assert.Equal(2m, json.GetProperty("chargedGpuHours").GetDecimal());
        Assert.Equal(1, json.GetProperty("rejected").GetInt32());
        var rejection = json.GetProperty("rejections")[0];
        Assert.Equal(2, rejection.GetProperty("line").GetInt32());
        Assert.Contains("ElapsedRaw 31536000 s is longer than End − Start (1 s)", rejection.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal((2m, -2m, 1), await ChargesAsync(cluster.Id, allocation.Id));
    }

    [Fact]
    public async Task Ends_in_2099_or_before_the_start_and_more_gpus_than_the_cluster_has_are_rejected_with_their_lines()
    {
        var (cluster, allocation, token) = await ArrangeAsync("implausible", "implausible-acct");
        using var client = factory.ApiClient(token);
        var end = Yesterday;
        var future = new DateTime(2099, 1, 1, 12, 0, 0, DateTimeKind.Utc);
        var body = AgentHeader + "\n"
            + AgentLine("1", "implausible-acct", "u", future.AddHours(-2), future.AddHours(-1), future, 3600, 1) + "\n"
            + AgentLine("2", "implausible-acct", "u", end.AddHours(-2), end, end.AddHours(-1), 0, 1) + "\n"
            + AgentLine("3", "implausible-acct", "u", end.AddHours(-2), end.AddHours(-1), end, 3600, 65) + "\n"  // the test cluster has 8 × 8 GPUs
            + AgentLine("4", "implausible-acct", "u", end.AddHours(-2), end.AddHours(-1), end, 3600, 64) + "\n";

        using var response = await PostAsync(client, body);

        var json = await JsonOf(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, json.GetProperty("accepted").GetInt32());
        var rejections = json.GetProperty("rejections").EnumerateArray().ToList();
        Assert.Equal([2, 3, 4], rejections.Select(r => r.GetProperty("line").GetInt32()));
        Assert.Contains("End 2099-01-01T12:00:00Z is in the future", rejections[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("is before Start", rejections[1].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("65 GPUs, more than the cluster's 64", rejections[2].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal((64m, -64m, 1), await ChargesAsync(cluster.Id, allocation.Id));
    }

    [Fact]
    public async Task Invalid_utf8_anywhere_in_the_body_answers_400_and_stores_nothing()
    {
        var (cluster, allocation, token) = await ArrangeAsync("utf8", "utf8-acct");
        using var client = factory.ApiClient(token);
        var good = factory.Sacct(("7101", "utf8-acct", 1), ("7102", "utf8-acct", 1));
        // Valid lines first, so a lenient decoder would have read (and charged) them with a replacement character.
        var bytes = System.Text.Encoding.UTF8.GetBytes(good)
            .Concat(System.Text.Encoding.ASCII.GetBytes("7103|utf8-acct|b")).Concat(new byte[] { 0xC3, 0x28 })
            .Concat(System.Text.Encoding.ASCII.GetBytes("b|" + good.Split('\n')[1].Split('|', 4)[3] + "\n")).ToArray();
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/plain");

        using var response = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("The body is not valid UTF-8 text; nothing was recorded.", (await JsonOf(response)).GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal((0m, 0m, 0), await ChargesAsync(cluster.Id, allocation.Id));
    }

    // ---------------------------------------------------------------- job ids that come back

    [Fact]
    public async Task A_reused_job_id_with_a_new_submit_time_is_charged_and_the_same_job_sent_twice_once()
    {
        var (cluster, allocation, token) = await ArrangeAsync("reused", "reused-acct");
        using var client = factory.ApiClient(token);
        var end = Yesterday;
        var oldJob = AgentLine("500", "reused-acct", "alice", end.AddHours(-4), end.AddHours(-3), end.AddHours(-2), 3600, 1);
        // The controller lost its state: ids start again, a new job is 500 too, submitted after the old one ended.
        var newJob = AgentLine("500", "reused-acct", "bob", end.AddHours(-1), end.AddMinutes(-30), end, 1800, 4);
        var step = $"500.batch|reused-acct||{Utc(end.AddMinutes(-30))}|{Utc(end.AddMinutes(-30))}|{Utc(end)}|1800|gres/gpu=4||";

        using (var first = await PostAsync(client, AgentHeader + "\n" + oldJob + "\n"))
        {
            Assert.Equal(1, (await JsonOf(first)).GetProperty("charged").GetInt32());
        }
        using (var second = await PostAsync(client, AgentHeader + "\n" + oldJob + "\n" + newJob + "\n" + step + "\n"))
        {
            var json = await JsonOf(second);
            Assert.Equal(1, json.GetProperty("charged").GetInt32());
            Assert.Equal(1, json.GetProperty("duplicate").GetInt32());
            Assert.Equal(1, json.GetProperty("skippedSteps").GetInt32());
            Assert.Equal(2m, json.GetProperty("chargedGpuHours").GetDecimal());
        }
        using (var third = await PostAsync(client, AgentHeader + "\n" + newJob + "\n" + oldJob + "\n"))
        {
            Assert.Equal(2, (await JsonOf(third)).GetProperty("duplicate").GetInt32());
        }

        Assert.Equal((3m, -3m, 2), await ChargesAsync(cluster.Id, allocation.Id));
        await using var db = factory.NewDbContext();
        // Each job is charged by an entry of its own that names it by id and submit time.
        var entries = await db.LedgerEntries.Where(e => e.AllocationId == allocation.Id && e.Kind == LedgerEntryKind.Usage).OrderBy(e => e.Id).ToListAsync();
        Assert.Equal([("500", end.AddHours(-4)), ("500", end.AddHours(-1))], entries.Select(e => (e.UsageJobId!, e.UsageJobSubmittedAt!.Value.UtcDateTime)));
        Assert.Equal(["alice", "bob"], await db.UsageRecords.Where(u => u.ClusterId == cluster.Id).OrderBy(u => u.SubmittedAt).Select(u => u.UserName).ToListAsync());
    }

    [Fact]
    public async Task Jobs_sent_without_a_submit_time_keep_the_old_rule_and_are_not_charged_again_when_the_agent_sends_them()
    {
        var (cluster, allocation, token) = await ArrangeAsync("upgrade", "upgrade-acct");
        using var client = factory.ApiClient(token);
        var end = Yesterday;
        // An older client (no Submit column) reports 600 and 601.
        using (var old = await PostAsync(client, factory.Sacct(("600", "upgrade-acct", 1), ("601", "upgrade-acct", 1))))
        {
            Assert.Equal(2, (await JsonOf(old)).GetProperty("charged").GetInt32());
        }
        // The cluster switches to the agent, whose first window overlaps: 600 again, now with its submit time, is the same
        // job (it had not ended when it was submitted); 601 with a submit time after that job ended is a new job with a reused id.
        var body = AgentHeader + "\n"
            + AgentLine("600", "upgrade-acct", "alice", end.AddHours(-2), end.AddHours(-1), end, 3600, 1) + "\n"
            + AgentLine("601", "upgrade-acct", "alice", end.AddHours(1), end.AddHours(2), end.AddHours(3), 3600, 2) + "\n";
        using (var agent = await PostAsync(client, body))
        {
            var json = await JsonOf(agent);
            Assert.Equal(1, json.GetProperty("duplicate").GetInt32());
            Assert.Equal(1, json.GetProperty("charged").GetInt32());
        }
        // An older client again: any recorded job with the id counts, as before submit times were kept.
        using (var again = await PostAsync(client, factory.Sacct(("600", "upgrade-acct", 1), ("601", "upgrade-acct", 1))))
        {
            Assert.Equal(2, (await JsonOf(again)).GetProperty("duplicate").GetInt32());
        }
        Assert.Equal((4m, -4m, 3), await ChargesAsync(cluster.Id, allocation.Id));
    }

    // ---------------------------------------------------------------- charged to the allocation whose period holds the job's end

    [Fact]
    public async Task A_job_ending_outside_the_allocations_period_waits_as_unmatched_with_the_reason_and_can_be_assigned()
    {
        var cluster = await factory.CreateClusterAsync("period");
        var period = await factory.CreatePeriodAsync("Period of period");
        await factory.SetCapacityAsync(cluster, period, 100_000m);
        var pi = await factory.CreateUserAsync("period.pi@example.edu");
        var today = factory.Today();
        // Ended three days ago; the jobs end yesterday, and one ended before it started.
        var allocation = await factory.GrantAsync(period, pi.Id, "Project period", new Dictionary<Guid, decimal> { [cluster.Id] = 100m },
            account: "period-acct", start: today.AddDays(-20), end: today.AddDays(-3));
        using var client = factory.ApiClient(await factory.CreateTokenAsync(cluster));
        var end = Yesterday;
        var inside = end.AddDays(-5);
        var before = new DateTime(today.AddDays(-21).ToDateTime(new TimeOnly(23, 59, 0)).Ticks, DateTimeKind.Utc);
        var body = AgentHeader + "\n"
            + AgentLine("801", "period-acct", "alice", end.AddHours(-2), end.AddHours(-1), end, 3600, 2) + "\n"
            + AgentLine("802", "period-acct", "alice", inside.AddHours(-2), inside.AddHours(-1), inside, 3600, 1) + "\n"
            + AgentLine("803", "period-acct", "alice", before.AddHours(-2), before.AddHours(-1), before, 3600, 4) + "\n";

        using (var response = await PostAsync(client, body))
        {
            var json = await JsonOf(response);
            Assert.Equal(1, json.GetProperty("charged").GetInt32());
            Assert.Equal(2, json.GetProperty("unmatched").GetInt32());
        }
        await using (var db = factory.NewDbContext())
        {
            var unmatched = await db.UnmatchedUsage.Where(u => u.ClusterId == cluster.Id).OrderBy(u => u.JobId).ToListAsync();
            Assert.Equal([("801", UnmatchedReason.EndedAfterEnd), ("803", UnmatchedReason.EndedBeforeStart)], unmatched.Select(u => (u.JobId, u.Reason!.Value)));
            Assert.All(unmatched, u => Assert.NotNull(u.SubmittedAt));
        }
        var admin = await factory.CreateUserAsync("period.admin@example.org", [Identity.Roles.Admin]);
        using var adminClient = new PortalClient(factory);
        await adminClient.SignInAsync(admin.Email!);
        var page = await adminClient.GetPageAsync("/Admin/Usage/Unmatched");
        Assert.Contains("ended after the allocation ended", page, StringComparison.Ordinal);
        Assert.Contains("ended before the allocation started", page, StringComparison.Ordinal);

        // Resolvable as any unmatched usage: the admin decides the late job belongs to the allocation after all.
        await using (var db = factory.NewDbContext())
        {
            var late = await db.UnmatchedUsage.SingleAsync(u => u.ClusterId == cluster.Id && u.JobId == "801");
            await factory.WithScopeAsync(sp => sp.GetRequiredService<UnmatchedUsageResolution>().AssignAsync(UnmatchedSelection.One(late.Id), "period-acct", admin.Id));
        }
        Assert.Equal((3m, -3m, 3), await ChargesAsync(cluster.Id, allocation.Id));
        await using var check = factory.NewDbContext();
        var assigned = await check.LedgerEntries.SingleAsync(e => e.AllocationId == allocation.Id && e.UsageJobId == "801");
        Assert.Equal(end.AddHours(-2), assigned.UsageJobSubmittedAt!.Value.UtcDateTime);
        Assert.Equal(allocation.Id, await check.UsageRecords.Where(u => u.ClusterId == cluster.Id && u.JobId == "801").Select(u => u.AllocationId).SingleAsync());
    }

    // ---------------------------------------------------------------- who used what

    [Fact]
    public async Task The_allocation_page_sums_gpu_hours_and_jobs_per_user_and_the_csv_names_each_jobs_user()
    {
        var (_, allocation, token) = await ArrangeAsync("byuser", "byuser-acct");
        using (var api = factory.ApiClient(token))
        {
            var end = Yesterday;
            var body = AgentHeader + "\n"
                + AgentLine("901", "byuser-acct", "alice", end.AddHours(-3), end.AddHours(-2), end, 7200, 2) + "\n"   // 4 GPU-h
                + AgentLine("902", "byuser-acct", "alice", end.AddHours(-3), end.AddHours(-1), end, 1800, 1) + "\n"   // 0.5
                + AgentLine("903", "byuser-acct", "bob", end.AddHours(-3), end.AddHours(-1), end, 3600, 8) + "\n";    // 8
            using var _ = await PostAsync(api, body);
        }
        using var client = new PortalClient(factory);
        await client.SignInAsync("byuser.pi@example.edu");

        var html = await client.GetPageAsync($"/Allocations/{allocation.Id}");

        var table = html[html.IndexOf("id=\"usage-by-user\"", StringComparison.Ordinal)..];
        table = table[..table.IndexOf("</table>", StringComparison.Ordinal)];
        var rows = System.Text.RegularExpressions.Regex.Matches(table, "<tr><td>([^<]*)</td><td>[^<]*</td><td class=\"num\">([^<]*)</td><td class=\"num\">([^<]*)</td></tr>")
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value));
        Assert.Equal([("bob", "1", "8.00"), ("alice", "2", "4.50")], rows);
        var csv = (await (await client.GetAsync($"/Allocations/{allocation.Id}?handler=Jobs")).Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        Assert.Equal(["alice", "alice", "bob"], csv.Skip(1).Select(line => line.Split(',')[3]).Order());
    }

    [Fact]
    public async Task Quotas_come_as_json_and_as_sacctmgr_commands_for_the_own_cluster()
    {
        var (cluster, allocation, token) = await ArrangeAsync("quota", "quota-acct", hours: 100.5m);
        using var client = factory.ApiClient(token);
        using (var charge = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(factory.Sacct(("6001", "quota-acct", 4)))))
        {
            Assert.Equal(HttpStatusCode.OK, charge.StatusCode);
        }
        using (var response = await client.GetAsync(new Uri($"/api/v1/clusters/{cluster.Slug}/quotas", UriKind.Relative)))
        {
            var account = (await JsonOf(response)).GetProperty("accounts")[0];
            Assert.Equal("quota-acct", account.GetProperty("account").GetString());
            Assert.Equal(100.5m, account.GetProperty("grantedGpuHours").GetDecimal());
            Assert.Equal(4m, account.GetProperty("usedGpuHours").GetDecimal());
            Assert.Equal(96.5m, account.GetProperty("remainingGpuHours").GetDecimal());
            Assert.Equal(allocation.EndDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), account.GetProperty("endDate").GetString());
        }
        using var text = await client.GetAsync(new Uri($"/api/v1/clusters/{cluster.Slug}/quotas?format=sacctmgr", UriKind.Relative));
        Assert.Equal("text/plain", text.Content.Headers.ContentType!.MediaType);
        Assert.Contains($"sacctmgr -i modify account where name=quota-acct cluster={cluster.SlurmClusterName} set GrpTRESMins=gres/gpu=6030\n",
            await text.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

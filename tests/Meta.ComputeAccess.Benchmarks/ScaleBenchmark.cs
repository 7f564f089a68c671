using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Identity;
using Meta.ComputeAccess.Identity;
using Npgsql;

namespace Meta.ComputeAccess.Benchmarks;

/// <summary>
/// Program scale: the 1,000,000-record POST on an empty <c>usage_records</c>, then again after preloading many millions of
/// records generated in the database (<c>generate_series</c>, not over HTTP) across 100 clusters, ending over the last 290 days (the seeded allocation's period so far);
/// and the allocation page of an allocation with 1,000,000 charged jobs.
/// </summary>
/// <remarks>
/// Options: <c>--pg &lt;admin connection string&gt;</c> (or PORTAL_BENCH_PG), <c>--preload N</c> (default 20,000,000; lowered
/// when the disk would keep less than <c>--keep-free-gb</c>, default 15, free), <c>--records N</c> (default 1,000,000),
/// <c>--web DLL</c>, <c>--keep</c> (leave the database). The database is dropped at the end unless <c>--keep</c>.
/// </remarks>
public sealed class ScaleBenchmark : IBenchmark
{
    private const string PiPassword = "Bench-scale-password-1";

    public string Name => "scale";

    public string Description => "1,000,000-record POST on an empty table vs after preloading N records in the database; allocation page with 1,000,000 jobs [--preload N] [--records N]";

    public async Task<int> RunAsync(string[] args)
    {
        var admin = PortalHarness.AdminConnectionString(args);
        var web = PortalHarness.Option(args, "--web") ?? PortalHarness.FindWebDll();
        if (string.IsNullOrWhiteSpace(admin) || web is null || !File.Exists(web))
        {
            Console.Error.WriteLine("scale needs --pg (or PORTAL_BENCH_PG) and a Release build of the portal (or --web DLL).");
            return 2;
        }
        var records = int.Parse(PortalHarness.Option(args, "--records") ?? "1000000", CultureInfo.InvariantCulture);
        var preload = long.Parse(PortalHarness.Option(args, "--preload") ?? "20000000", CultureInfo.InvariantCulture);
        var keepFree = long.Parse(PortalHarness.Option(args, "--keep-free-gb") ?? "15", CultureInfo.InvariantCulture) << 30;

        var database = $"mca_bench_scale_{Environment.ProcessId}";
        var cs = new NpgsqlConnectionStringBuilder(admin) { Database = database, Pooling = true, CommandTimeout = 3600 }.ConnectionString;
        await PortalHarness.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        await PortalHarness.ExecuteAsync(admin, $"CREATE DATABASE \"{database}\"");
        var empty = Path.Combine(Path.GetTempPath(), $"mca-scale-a-{Environment.ProcessId}.sacct");
        var full = Path.Combine(Path.GetTempPath(), $"mca-scale-b-{Environment.ProcessId}.sacct");
        Process? portal = null;
        try
        {
            var seeded = await PortalHarness.PrepareAsync(cs, user => new PasswordHasher<PortalUser>().HashPassword(user, PiPassword));
            PortalHarness.Generate(empty, records, new Random(4711), jobIdOffset: 1_000_000);
            PortalHarness.Generate(full, records, new Random(4712), jobIdOffset: 3_000_000);
            (portal, var http) = await PortalHarness.StartWarmedAsync(web, cs, seeded.Token);
            using var client = http;
            var (emptySummary, emptySeconds) = await PortalHarness.PostTimedAsync(http, empty, seeded.Token);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  POST on an empty table: {emptySeconds:F2} s = {records / emptySeconds:N0} records/s  {emptySummary}"));
            File.Delete(empty);

            // What a record costs on disk, measured on what the POST stored, decides how many fit.
            var bytesPerRecord = await ScalarAsync<long>(cs, """
                SELECT (sum(pg_total_relation_size(c.oid)) / (SELECT count(*) FROM usage_records))::bigint
                FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'usage_records'::regclass
                """);
            var free = new DriveInfo(Path.GetTempPath()).AvailableFreeSpace;
            // Room for the rows and indexes, plus as much again for WAL and index builds.
            var fits = Math.Max(0, (free - keepFree) / (bytesPerRecord * 2));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {bytesPerRecord} bytes per record with its indexes; {free / (1L << 30)} GiB free: {fits:N0} records fit keeping {keepFree >> 30} GiB free; 100,000,000 would take {bytesPerRecord * 100_000_000L / (1L << 30)} GiB"));
            if (preload > fits)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  preloading {fits:N0} instead of {preload:N0}"));
                preload = fits;
            }

            var watch = Stopwatch.StartNew();
            await PreloadAsync(cs, seeded, preload);
            var rows = await ScalarAsync<long>(cs, "SELECT count(*) FROM usage_records");
            var size = await ScalarAsync<string>(cs, "SELECT pg_size_pretty(sum(pg_total_relation_size(i.inhrelid))) FROM pg_inherits i WHERE i.inhparent = 'usage_records'::regclass");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  preloaded {preload:N0} records in {watch.Elapsed.TotalSeconds:F0} s; usage_records now {rows:N0} rows, {size} with indexes"));

            var (fullSummary, fullSeconds) = await PortalHarness.PostTimedAsync(http, full, seeded.Token);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  POST with {preload:N0} preloaded: {fullSeconds:F2} s = {records / fullSeconds:N0} records/s  {fullSummary}; {fullSeconds / emptySeconds:F2}× the empty-table time"));

            var jobs = await ScalarAsync<long>(cs, $"SELECT count(*) FROM usage_records WHERE allocation_id = '{seeded.AllocationId}'");
            var cookies = await PortalHarness.SignInAsync(http, "bench.pi@example.edu", PiPassword);
            var times = new List<double>();
            for (var i = 0; i < 13; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/Allocations/{seeded.AllocationId}", UriKind.Relative));
                request.Headers.TryAddWithoutValidation("Cookie", cookies);
                var page = Stopwatch.StartNew();
                using var response = await http.SendAsync(request);
                var html = await response.Content.ReadAsStringAsync();
                page.Stop();
                if (!response.IsSuccessStatusCode || html.Length < 1000)
                {
                    throw new InvalidOperationException($"The allocation page answered {(int)response.StatusCode}");
                }
                if (i >= 3)
                {
                    times.Add(page.Elapsed.TotalMilliseconds);
                }
            }
            times.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  allocation page, {jobs:N0} jobs charged: median {times[times.Count / 2]:F0} ms, min {times[0]:F0} ms, max {times[^1]:F0} ms (10 requests after 3 warm-up)"));
            return 0;
        }
        finally
        {
            await PortalHarness.StopAsync(portal);
            File.Delete(empty);
            File.Delete(full);
            if (!args.Contains("--keep"))
            {
                NpgsqlConnection.ClearAllPools();
                await PortalHarness.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
            }
        }
    }

    /// <summary>
    /// Generates <paramref name="count"/> finished jobs in the database: 100 clusters (every 20th job on the seeded one, charged
    /// to the seeded allocation: 1,000,000 jobs for 20,000,000), ends spread evenly over the last 290 days, one ledger entry per day
    /// for the seeded allocation's jobs. The indexes are dropped for the load and built again after it, as a restore would.
    /// </summary>
    private static async Task PreloadAsync(string cs, SeededPortal seeded, long count)
    {
        var step = Stopwatch.StartNew();
        async Task RunAsync(string what, string sql)
        {
            await PortalHarness.ExecuteAsync(cs, sql);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {what}: {step.Elapsed.TotalSeconds:F0} s"));
            step.Restart();
        }
        await RunAsync("partitions for the last 10 months", """
            SELECT usage_partition(t, (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => n))::date)
            FROM unnest(ARRAY['usage_records', 'unmatched_usage']) AS t, generate_series(0, 10) AS n
            """);
        await RunAsync("indexes dropped", """
            DROP INDEX ix_usage_records_cluster_id_job_id_submitted_at_ended_at;
            DROP INDEX ix_usage_records_allocation_id_ended_at;
            DROP INDEX ix_usage_records_without_submit_time;
            """);
        await RunAsync($"{count:N0} rows", string.Create(CultureInfo.InvariantCulture, $$"""
            INSERT INTO usage_records (cluster_id, job_id, submitted_at, account, user_name, started_at, ended_at, elapsed_seconds, gpu_count, gpu_hours, charged_hours, state, received_at, allocation_id)
            SELECT CASE WHEN g % 20 = 0 THEN '{{seeded.ClusterId}}'::uuid ELSE md5('cluster' || (g % 99))::uuid END,
                   (100000000 + g)::text,
                   e - make_interval(secs => 3600 + g % 7200),
                   CASE WHEN g % 20 = 0 THEN '{{PortalHarness.Account}}' ELSE 'acct-' || (g % 4000) END,
                   'user' || lpad((g % 2000)::text, 4, '0'),
                   e - make_interval(secs => 3600 + g % 3600), e, 3600 + g % 3600, (g % 9)::int, round(((3600 + g % 3600) * (g % 9)) / 3600.0, 6), round(((3600 + g % 3600) * (g % 9)) / 3600.0, 6),
                   'COMPLETED', e,
                   CASE WHEN g % 20 = 0 THEN '{{seeded.AllocationId}}'::uuid ELSE md5('allocation' || (g % 4000))::uuid END
            FROM generate_series(1, {{count}}) AS g,
                 LATERAL (SELECT now() - interval '1 day' - make_interval(secs => (g * (290 * 86400.0 / {{count}}))) AS e) AS t
            """));
        await RunAsync("unique index", "CREATE UNIQUE INDEX ix_usage_records_cluster_id_job_id_submitted_at_ended_at ON usage_records (cluster_id, job_id, submitted_at, ended_at) NULLS NOT DISTINCT");
        await RunAsync("allocation index", "CREATE INDEX ix_usage_records_allocation_id_ended_at ON usage_records (allocation_id, ended_at)");
        await RunAsync("index of jobs without submit time", "CREATE INDEX ix_usage_records_without_submit_time ON usage_records (cluster_id, job_id) WHERE submitted_at IS NULL");
        await RunAsync("daily ledger entries, quota and user totals of the seeded allocation", $$"""
            INSERT INTO ledger_entries (allocation_id, cluster_id, kind, hours, effective_at, recorded_at, cause, actor_user_id, usage_job_id, usage_job_submitted_at)
            SELECT '{{seeded.AllocationId}}', '{{seeded.ClusterId}}', 'Usage', -sum(charged_hours), max(ended_at), now(), count(*) || ' jobs ended ' || d || ' (UTC)', NULL, NULL, NULL
            FROM (SELECT charged_hours, ended_at, (ended_at AT TIME ZONE 'UTC')::date AS d FROM usage_records
                  WHERE allocation_id = '{{seeded.AllocationId}}' AND received_at = ended_at) AS j
            GROUP BY d HAVING sum(charged_hours) > 0;
            UPDATE allocation_quotas q SET used_hours = -(SELECT sum(hours) FROM ledger_entries e WHERE e.allocation_id = q.allocation_id AND e.kind = 'Usage')
            WHERE q.allocation_id = '{{seeded.AllocationId}}';
            INSERT INTO allocation_user_usage AS t (allocation_id, cluster_id, user_name, jobs, gpu_hours)
            SELECT allocation_id, cluster_id, user_name, count(*), sum(gpu_hours) FROM usage_records
            WHERE allocation_id = '{{seeded.AllocationId}}' AND received_at = ended_at
            GROUP BY allocation_id, cluster_id, user_name
            ON CONFLICT (allocation_id, cluster_id, user_name) DO UPDATE SET jobs = t.jobs + excluded.jobs, gpu_hours = t.gpu_hours + excluded.gpu_hours;
            """);
        await RunAsync("analyze", "ANALYZE usage_records; ANALYZE ledger_entries");
    }

    private static async Task<T> ScalarAsync<T>(string cs, string sql)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 3600 };
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), CultureInfo.InvariantCulture);
    }
}

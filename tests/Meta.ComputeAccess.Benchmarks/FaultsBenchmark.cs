using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Usage;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Meta.ComputeAccess.Benchmarks;

/// <summary>
/// Fault injection against the portal running as its own process (run by deploy/local/fault-test.sh, described in
/// docs/reliability.md): (1) PostgreSQL stopped and started again while pages, the cluster API, small usage batches and a
/// large usage ingest are running; (2) the portal killed with SIGKILL in the middle of a large ingest; (3) the portal
/// killed while a Hangfire job is running. Every check compares with a clean run of the same batches (the same ingest
/// code in-process on a second database). Exit code 1 on any violation.
/// </summary>
/// <remarks>
/// Options: <c>--pg CS</c> (or PORTAL_BENCH_PG) admin connection string; <c>--pgdata DIR</c> the cluster's data folder
/// (pg_ctl -D); <c>--pg-owner USER</c> run pg_ctl as this user (when running as root); <c>--records N</c> (300,000);
/// <c>--outage S</c> seconds PostgreSQL stays down (5); <c>--web DLL</c>; <c>--keep</c>. pg_ctl comes from PORTAL_TEST_PG_BIN.
/// </remarks>
public sealed partial class FaultsBenchmark : IBenchmark
{
    public string Name => "faults";

    public string Description => "PostgreSQL restart under load, portal killed mid-ingest and mid-job [--pg CS --pgdata DIR] [--pg-owner USER] [--records N] [--outage S] [--web DLL] [--keep]";

    private const string ApplicationName = "mca-portal";
    private const int BigOffset1 = 1_000_000;
    private const int BigOffset2 = 3_000_000;
    private const int WriterOffset = 90_000_000;
    private const int WriterBatch = 20;
    private const string PiPassword = "fault-test pass phrase 42";

    private readonly List<(string Scenario, string Check, string Expected, string Observed, bool Ok)> results = [];
    private readonly Stopwatch clock = Stopwatch.StartNew();

    private string admin = "";
    private string mainCs = "";
    private string pgData = "";
    private string? pgOwner;
    private int pgPort;
    private string web = "";
    private int portalPort;
    private Process? portal;
    private bool verbose;
    private int portalErrors;

    public async Task<int> RunAsync(string[] args)
    {
        admin = PortalHarness.Option(args, "--pg") ?? Environment.GetEnvironmentVariable("PORTAL_BENCH_PG") ?? "";
        pgData = PortalHarness.Option(args, "--pgdata") ?? "";
        pgOwner = PortalHarness.Option(args, "--pg-owner");
        verbose = args.Contains("--verbose");
        if (admin.Length == 0 || pgData.Length == 0 || !Directory.Exists(pgData))
        {
            Console.Error.WriteLine("faults needs the throwaway cluster: --pg \"Host=...;Username=postgres;Password=...\" --pgdata <data folder>. Run deploy/local/fault-test.sh.");
            return 2;
        }
        // The driver's own connections are not pooled: a pooled connection would be dead after the restart.
        admin = new NpgsqlConnectionStringBuilder(admin) { Pooling = false }.ConnectionString;
        pgPort = new NpgsqlConnectionStringBuilder(admin).Port;
        var records = int.Parse(PortalHarness.Option(args, "--records") ?? "300000", CultureInfo.InvariantCulture);
        var outage = double.Parse(PortalHarness.Option(args, "--outage") ?? "5", CultureInfo.InvariantCulture);
        web = PortalHarness.Option(args, "--web") ?? PortalHarness.FindWebDll() ?? "";
        if (!File.Exists(web))
        {
            Console.Error.WriteLine("Build the portal first (dotnet build -c Release src/Meta.ComputeAccess.Web) or pass --web <path to Meta.ComputeAccess.Web.dll>.");
            return 2;
        }

        var suffix = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var mainDb = $"mca_faults_{suffix}";
        var refDb = $"mca_faults_ref_{suffix}";
        foreach (var name in new[] { mainDb, refDb })
        {
            await PortalHarness.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            await PortalHarness.ExecuteAsync(admin, $"CREATE DATABASE \"{name}\"");
        }
        mainCs = new NpgsqlConnectionStringBuilder(admin) { Database = mainDb, CommandTimeout = 600 }.ConnectionString;
        var refCs = new NpgsqlConnectionStringBuilder(admin) { Database = refDb, CommandTimeout = 600 }.ConnectionString;
        // The portal's connections carry an application name, so the driver can see where its ingest is.
        var portalCs = new NpgsqlConnectionStringBuilder(mainCs) { ApplicationName = ApplicationName, CommandTimeout = 600, Pooling = true }.ConnectionString;
        var file1 = Path.Combine(Path.GetTempPath(), $"mca-faults-1-{suffix}.sacct");
        var file2 = Path.Combine(Path.GetTempPath(), $"mca-faults-2-{suffix}.sacct");
        try
        {
            Log("seeding the databases and writing two sacct files of {0:N0} jobs", records);
            var seeded = await PortalHarness.PrepareAsync(mainCs, user => new PasswordHasher<PortalUser>().HashPassword(user, PiPassword));
            var expiringId = await AddExpiringAllocationAsync(mainCs);
            var refSeeded = await PortalHarness.PrepareAsync(refCs);
            PortalHarness.Generate(file1, records, new Random(4711), BigOffset1);
            PortalHarness.Generate(file2, records, new Random(4712), BigOffset2);

            Log("clean run: the same two files through the same ingest code on a second database");
            await IngestInProcessAsync(refCs, refSeeded.ClusterId, file1);
            await IngestInProcessAsync(refCs, refSeeded.ClusterId, file2);
            var clean1 = await RangeTotalsAsync(refCs, BigOffset1, BigOffset1 + records);
            var clean2 = await RangeTotalsAsync(refCs, BigOffset2, BigOffset2 + records);
            Log("clean run: file 1 {0}; file 2 {1}", clean1, clean2);

            portalPort = PortalHarness.FreePort();
            using var handler = new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromSeconds(30) };
            using var http = new HttpClient(handler) { BaseAddress = new Uri($"http://127.0.0.1:{portalPort}"), Timeout = TimeSpan.FromMinutes(10) };
            // As behind the production reverse proxy (loopback is a trusted proxy): the portal sees HTTPS requests,
            // so its Secure cookies and antiforgery checks work as in production.
            http.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
            http.DefaultRequestHeaders.Add("X-Forwarded-For", "127.0.0.1");
            await StartPortalAsync(portalCs, http);

            await PostgresRestartAsync(http, seeded, file1, clean1, records, outage);
            await PortalKilledMidIngestAsync(http, portalCs, seeded, file2, clean2, records);
            await PortalKilledMidJobAsync(http, portalCs, expiringId);
            await CheckInvariantsAsync("end", mainCs);
        }
        finally
        {
            await StopPortalAsync();
            File.Delete(file1);
            File.Delete(file2);
            if (!args.Contains("--keep"))
            {
                NpgsqlConnection.ClearAllPools();
                foreach (var name in new[] { mainDb, refDb })
                {
                    try
                    {
                        await PortalHarness.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    }
                    catch (NpgsqlException ex)
                    {
                        Console.Error.WriteLine($"could not drop {name}: {ex.Message}");
                    }
                }
            }
        }

        Console.WriteLine($"The portal logged {portalErrors} error lines over the run (expected while PostgreSQL is down; --verbose shows them).");
        PrintSummary();
        return results.All(r => r.Ok) ? 0 : 1;
    }

    // ---------------------------------------------------------------- scenario 1: PostgreSQL restarted under load

    private async Task PostgresRestartAsync(HttpClient http, SeededPortal seeded, string file, RangeTotals clean, int records, double outageSeconds)
    {
        const string S = "1 pg restart";
        Log("scenario 1: PostgreSQL stopped (-m fast) for {0} s and started again during a {1:N0}-job ingest, under page/API load", outageSeconds, records);
        var cookies = await PortalHarness.SignInAsync(http, "bench.pi@example.edu", PiPassword);
        var samples = new ConcurrentQueue<Sample>();
        var writes = new ConcurrentQueue<(int Batch, int Status)>();
        using var stop = new CancellationTokenSource();
        var load = new[]
        {
            LoopAsync(http, samples, "page /", () => Get("/", cookie: cookies), stop.Token),
            LoopAsync(http, samples, "api quotas", () => Get("/api/v1/clusters/bench/quotas", token: seeded.Token), stop.Token),
            LoopAsync(http, samples, "health/ready", () => Get("/health/ready"), stop.Token),
            WriterAsync(http, samples, writes, seeded.Token, stop.Token),
        };
        await Task.Delay(2000);

        var ingest = PostFileAsync(http, file, seeded.Token);
        var step = await WaitForIngestStepAsync(TimeSpan.FromSeconds(180));
        var down = clock.Elapsed.TotalSeconds;
        Log("ingest reached \"{0}\": stopping PostgreSQL", step.Query);
        await PgCtlAsync("-D", pgData, "-m", "fast", "-w", "-t", "60", "stop");
        var stopped = clock.Elapsed.TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(outageSeconds));
        await PgCtlAsync("-D", pgData, "-o", $"-p {pgPort}", "-l", Path.Combine(Path.GetDirectoryName(pgData)!, "postgresql.log"), "-w", "-t", "60", "start");
        var back = clock.Elapsed.TotalSeconds;
        Log("PostgreSQL back after {0:F1} s down", back - stopped);

        var (ingestStatus, ingestBody) = await ingest;
        // Keep the load running until every stream has answered 200 again (at most 60 s), then 3 s more.
        var streams = new[] { "page /", "api quotas", "health/ready", "usage batch" };
        var waitUntil = clock.Elapsed.TotalSeconds + 60;
        while (clock.Elapsed.TotalSeconds < waitUntil && !streams.All(s => samples.Any(x => x.Stream == s && x.Started >= back && x.Status == 200)))
        {
            await Task.Delay(200);
        }
        await Task.Delay(3000);
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Record(S, "ingest interrupted mid-transaction", "stopped during COPY/INSERT", step.Query, step.Query.Length > 0);
        Record(S, "interrupted ingest answer", "503 + Retry-After", ingestStatus == 503 ? "503" : $"{ingestStatus} {Trim(ingestBody)}", ingestStatus == 503);
        var all = samples.ToList();
        var bad = all.Where(x => x.Status is 0 or (>= 500 and not 503)).ToList();
        var during = all.Where(x => x.Ended >= down && x.Started <= back);
        Record(S, "answers during the outage", "200 or 503, never 500",
            string.Join(", ", during.GroupBy(x => x.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()}×{g.Key}")), !during.Any(x => x.Status is 0 or (>= 500 and not 503)));
        Record(S, "500s / transport errors over the run", "0", bad.Count == 0 ? $"0 of {all.Count} requests" : string.Join("; ", bad.Take(3).Select(b => $"{b.Stream} {b.Status} {b.Error}")), bad.Count == 0);
        foreach (var s in streams)
        {
            var first = all.Where(x => x.Stream == s && x.Started >= back && x.Status == 200).OrderBy(x => x.Started).FirstOrDefault();
            var failedAfter = all.Count(x => x.Stream == s && x.Started >= back && x.Status != 200 && (first is null || x.Started < first.Started));
            Record(S, $"{s}: 200 again after PostgreSQL is back", "within 10 s",
                first is null ? "never (60 s)" : string.Create(CultureInfo.InvariantCulture, $"{first.Ended - back:F2} s ({failedAfter} failed before)"), first is not null && first.Ended - back <= 10);
        }

        var afterFault = await RangeTotalsAsync(mainCs, BigOffset1, BigOffset1 + records);
        Record(S, "interrupted ingest left nothing behind", "0 records, 0 GPU-h", afterFault.ToString(), afterFault.Records == 0 && afterFault.GpuHours == 0);
        await CheckInvariantsAsync(S + " (after fault)", mainCs);

        // Small batches: every acknowledged one is stored once; every refused one can be sent again.
        var acknowledged = writes.Where(w => w.Status == 200).Select(w => w.Batch).ToList();
        var refused = writes.Where(w => w.Status != 200).Select(w => w.Batch).ToList();
        var lost = 0;
        foreach (var batch in acknowledged)
        {
            lost += WriterBatch - (int)(await RangeTotalsAsync(mainCs, WriterOffset + batch * 100, WriterOffset + batch * 100 + WriterBatch)).Records;
        }
        Record(S, "small batches answered 200 are stored", "0 lost", $"{acknowledged.Count} batches, {lost} records lost", lost == 0);
        var resent = 0;
        foreach (var batch in refused)
        {
            var (status, _) = await PostTextAsync(http, WriterBody(batch), seeded.Token);
            resent += status == 200 ? 1 : 0;
        }
        var writerTotals = await RangeTotalsAsync(mainCs, WriterOffset, WriterOffset + (writes.Count + 1) * 100);
        Record(S, "small batches refused (503) and sent again", "all stored once",
            $"{refused.Count} refused, {resent} re-sent OK; {writerTotals.Records} records = {writes.Count}×{WriterBatch}", resent == refused.Count && writerTotals.Records == writes.Count * WriterBatch);

        var (again, againBody) = await PostFileAsync(http, file, seeded.Token);
        var accepted = again == 200 ? JsonDocument.Parse(againBody).RootElement.GetProperty("accepted").GetInt32() : -1;
        Record(S, "same batch sent again", $"200, accepted {clean.Records:N0}", again == 200 ? $"200, accepted {accepted:N0}" : $"{again} {Trim(againBody)}", again == 200 && accepted == clean.Records);
        var final = await RangeTotalsAsync(mainCs, BigOffset1, BigOffset1 + records);
        Record(S, "result equals the clean run", clean.ToString(), final.ToString(), final == clean);
        await CheckInvariantsAsync(S, mainCs);
    }

    // ---------------------------------------------------------------- scenario 2: portal killed mid-ingest

    private async Task PortalKilledMidIngestAsync(HttpClient http, string portalCs, SeededPortal seeded, string file, RangeTotals clean, int records)
    {
        const string S = "2 kill mid-ingest";
        Log("scenario 2: the portal killed (SIGKILL) during a {0:N0}-job ingest", records);
        var ingest = PostFileAsync(http, file, seeded.Token);
        var step = await WaitForIngestStepAsync(TimeSpan.FromSeconds(180));
        var killedPid = portal!.Id;
        portal.Kill();
        await portal.WaitForExitAsync();
        var killedAt = clock.Elapsed.TotalSeconds;
        Log("killed portal process {0} while the ingest ran \"{1}\"", killedPid, step.Query);
        var (status, body) = await ingest;
        Record(S, "killed during the ingest transaction", "during COPY/INSERT", step.Query, step.Query.Length > 0);
        Record(S, "client saw the connection drop", "no answer", status == 0 ? "connection lost" : $"{status} {Trim(body)}", status == 0);

        var nothing = await RangeTotalsAsync(mainCs, BigOffset2, BigOffset2 + records);
        Record(S, "killed ingest left nothing behind", "0 records, 0 GPU-h", nothing.ToString(), nothing.Records == 0 && nothing.GpuHours == 0);
        // The orphaned server backend rolls back once it notices its client is gone.
        var orphanGone = await WaitAsync(async () => await ScalarAsync<long>(admin, $"SELECT count(*) FROM pg_stat_activity WHERE pid = {step.Pid}") == 0, TimeSpan.FromSeconds(120));
        Record(S, "orphaned database session ends", "rolled back", orphanGone ? string.Create(CultureInfo.InvariantCulture, $"after {clock.Elapsed.TotalSeconds - killedAt:F1} s") : "still there after 120 s", orphanGone);
        await CheckInvariantsAsync(S + " (after kill)", mainCs);

        var restart = clock.Elapsed.TotalSeconds;
        await StartPortalAsync(portalCs, http);
        Log("portal restarted in {0:F1} s", clock.Elapsed.TotalSeconds - restart);
        var (again, againBody) = await PostFileAsync(http, file, seeded.Token);
        var accepted = again == 200 ? JsonDocument.Parse(againBody).RootElement.GetProperty("accepted").GetInt32() : -1;
        Record(S, "same batch sent again", $"200, accepted {clean.Records:N0}", again == 200 ? $"200, accepted {accepted:N0}" : $"{again} {Trim(againBody)}", again == 200 && accepted == clean.Records);
        var final = await RangeTotalsAsync(mainCs, BigOffset2, BigOffset2 + records);
        Record(S, "result equals the clean run", clean.ToString(), final.ToString(), final == clean);
        await CheckInvariantsAsync(S, mainCs);
    }

    // ---------------------------------------------------------------- scenario 3: portal killed mid-job

    private async Task PortalKilledMidJobAsync(HttpClient http, string portalCs, Guid expiringId)
    {
        const string S = "3 kill mid-job";
        Log("scenario 3: the portal killed while the allocation lifecycle job (Hangfire) is expiring an allocation");
        // The portal's serializer settings (PortalJobs), so its server reads the job exactly as one it enqueued itself.
        GlobalConfiguration.Configuration.SetDataCompatibilityLevel(CompatibilityLevel.Version_180).UseSimpleAssemblyNameTypeSerializer().UseRecommendedSerializerSettings();
        var options = new PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = false };
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(mainCs, options, null), options);
        var jobs = new BackgroundJobClient(storage);

        string jobId;
        await using (var blocker = new NpgsqlConnection(mainCs))
        {
            // Hold the allocation's row lock, so the job stops inside its transaction for that allocation.
            await blocker.OpenAsync();
            await using var tx = await blocker.BeginTransactionAsync();
            await using (var lockRow = new NpgsqlCommand($"SELECT 1 FROM allocations WHERE id = '{expiringId}' FOR UPDATE", blocker, tx))
            {
                await lockRow.ExecuteScalarAsync();
            }
            jobId = jobs.Enqueue<AllocationLifecycleJob>(j => j.RunAsync(CancellationToken.None));
            var waiting = await WaitAsync(async () => await ScalarAsync<long>(admin,
                $"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{ApplicationName}' AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'") > 0, TimeSpan.FromSeconds(90));
            var state = await JobStateAsync(jobId);
            Record(S, "job running when the portal is killed", "Processing, waiting inside its transaction", $"{state}{(waiting ? ", waiting on the allocation lock" : ", not seen waiting")}", waiting && state == "Processing");
            portal!.Kill();
            await portal.WaitForExitAsync();
            await tx.RollbackAsync();
        }
        var killedAt = clock.Elapsed.TotalSeconds;
        var stateAfterKill = await AllocationStateAsync(expiringId);
        Record(S, "nothing of the killed job committed", "allocation still Active, 0 expiry entries", $"{stateAfterKill.State}, {stateAfterKill.Expiries} expiry entries", stateAfterKill.State == AllocationState.Active && stateAfterKill.Expiries == 0);

        await StartPortalAsync(portalCs, http);
        var resumed = await WaitAsync(async () => await JobStateAsync(jobId) == "Succeeded", TimeSpan.FromSeconds(150));
        var processing = await ScalarAsync<long>(mainCs, $"SELECT count(*) FROM hangfire.state WHERE jobid = {jobId} AND name = 'Processing'");
        Record(S, "the same job resumes after restart", "Succeeded (invisibility timeout 20 s)",
            resumed ? string.Create(CultureInfo.InvariantCulture, $"Succeeded {clock.Elapsed.TotalSeconds - killedAt:F1} s after the kill, {processing} Processing states") : $"{await JobStateAsync(jobId)} after 150 s", resumed);
        var done = await AllocationStateAsync(expiringId);
        Record(S, "allocation expired once", "Expired, 1 expiry entry, balance 0", $"{done.State}, {done.Expiries} expiry entry, balance {done.Balance:N2}", done.State == AllocationState.Expired && done.Expiries == 1 && done.Balance == 0);

        var second = jobs.Enqueue<AllocationLifecycleJob>(j => j.RunAsync(CancellationToken.None));
        var secondDone = await WaitAsync(async () => await JobStateAsync(second) == "Succeeded", TimeSpan.FromSeconds(90));
        var twice = await AllocationStateAsync(expiringId);
        Record(S, "job run again changes nothing", "still 1 expiry entry", secondDone ? $"{twice.Expiries} expiry entry" : "second run did not finish in 90 s", secondDone && twice.Expiries == 1);
    }

    // ---------------------------------------------------------------- checks

    /// <summary>Totals of the usage records whose job number lies in [from, to).</summary>
    private sealed record RangeTotals(long Records, decimal GpuHours, long Charged, decimal ChargedHours, long Unmatched)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{Records:N0} records, {GpuHours:N2} GPU-h, {Charged:N0} charged {ChargedHours:N2} GPU-h, {Unmatched:N0} unmatched");
    }

    private static async Task<RangeTotals> RangeTotalsAsync(string cs, long from, long to)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT count(*), coalesce(sum(u.gpu_hours), 0), count(u.allocation_id), coalesce(sum(u.gpu_hours) FILTER (WHERE u.allocation_id IS NOT NULL), 0),
                   (SELECT count(*) FROM unmatched_usage m JOIN usage_records r ON r.cluster_id = m.cluster_id AND r.job_id = m.job_id AND r.ended_at = m.ended_at
                    WHERE split_part(r.job_id, '_', 1)::bigint >= @from AND split_part(r.job_id, '_', 1)::bigint < @to)
            FROM usage_records u
            WHERE split_part(u.job_id, '_', 1)::bigint >= @from AND split_part(u.job_id, '_', 1)::bigint < @to
            """, connection);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new RangeTotals(reader.GetInt64(0), reader.GetDecimal(1), reader.GetInt64(2), reader.GetDecimal(3), reader.GetInt64(4));
    }

    /// <summary>The ledger matches the usage records exactly, the cached quota matches the ledger, no job is stored twice.</summary>
    private async Task CheckInvariantsAsync(string scenario, string cs)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT coalesce(sum(gpu_hours), 0) FROM usage_records WHERE allocation_id IS NOT NULL),
                   (SELECT coalesce(-sum(hours), 0) FROM ledger_entries WHERE kind = 'Usage'),
                   (SELECT coalesce(sum(used_hours), 0) FROM allocation_quotas),
                   (SELECT count(*) - count(DISTINCT (cluster_id, job_id)) FROM usage_records),
                   (SELECT count(*) FROM usage_records WHERE allocation_id IS NULL),
                   (SELECT count(*) FROM unmatched_usage),
                   (SELECT count(*) FROM usage_records)
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var (usage, ledger, quota, duplicates, unmatchedRecords, unmatchedRows, total) =
            (reader.GetDecimal(0), reader.GetDecimal(1), reader.GetDecimal(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6));
        Record(scenario, "ledger = usage = cached quota; no duplicate job; unmatched kept",
            "equal sums, 0 duplicates",
            string.Create(CultureInfo.InvariantCulture, $"{total:N0} records: usage {usage:N2} / ledger {ledger:N2} / quota {quota:N2} GPU-h, {duplicates} dup, unmatched {unmatchedRecords:N0}={unmatchedRows:N0}"),
            usage == ledger && ledger == quota && duplicates == 0 && unmatchedRecords == unmatchedRows);
    }

    private static async Task<(AllocationState State, int Expiries, decimal Balance)> AllocationStateAsync(string cs, Guid id)
    {
        await using var db = new PortalDbContext(PortalDatabase.Options(cs));
        var state = await db.Allocations.Where(a => a.Id == id).Select(a => a.State).SingleAsync();
        var expiries = await db.LedgerEntries.CountAsync(e => e.AllocationId == id && e.Kind == LedgerEntryKind.Expiry);
        var balance = await db.LedgerEntries.Where(e => e.AllocationId == id).SumAsync(e => e.Hours);
        return (state, expiries, balance);
    }

    private Task<(AllocationState State, int Expiries, decimal Balance)> AllocationStateAsync(Guid id) => AllocationStateAsync(mainCs, id);

    private async Task<string> JobStateAsync(string jobId) =>
        await ScalarAsync<string?>(mainCs, $"SELECT statename FROM hangfire.job WHERE id = {long.Parse(jobId, CultureInfo.InvariantCulture)}") ?? "(none)";

    // ---------------------------------------------------------------- seeding and the clean run

    /// <summary>An allocation whose end date has passed: the lifecycle job expires it (1,000 GPU-hours on the cluster).</summary>
    private static async Task<Guid> AddExpiringAllocationAsync(string cs)
    {
        await using var db = new PortalDbContext(PortalDatabase.Options(cs));
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var period = await db.AllocationPeriods.SingleAsync();
        var cluster = await db.Clusters.SingleAsync();
        var pi = await db.Users.SingleAsync();
        var allocation = await PortalHarness.Allocations(db, TimeProvider.System).CreateAsync(new NewAllocation(period.Id, pi.Id, "Expiring project", today.AddDays(-300), today.AddDays(-1),
            new Dictionary<Guid, decimal> { [cluster.Id] = 1_000m }, SlurmAccount: "bench-expiring"), null);
        return allocation.Id;
    }

    private static async Task IngestInProcessAsync(string cs, Guid clusterId, string file)
    {
        await using var db = new PortalDbContext(PortalDatabase.Options(cs));
        await using var body = File.OpenRead(file);
        var ingest = new UsageIngest(db, PortalHarness.Notifier(db, TimeProvider.System), TimeProvider.System,
            Microsoft.Extensions.Options.Options.Create(new UsageOptions()), NullLogger<UsageIngest>.Instance);
        var parsed = await ingest.ParseAsync(clusterId, body, UsageBodyFormat.SacctParsable2);
        await ingest.IngestAsync(clusterId, parsed);
    }

    // ---------------------------------------------------------------- the portal process and PostgreSQL

    private async Task StartPortalAsync(string portalCs, HttpClient http)
    {
        portal = PortalHarness.StartPortal(web, portalCs, portalPort, new Dictionary<string, string>
        {
            ["Jobs__RunServer"] = "true",
            ["Jobs__InvisibilityTimeoutSeconds"] = "20",
            ["RateLimits__ClusterApiRequestsPerMinute"] = "100000",
            ["RateLimits__AccountPostsPerMinute"] = "1000",
            ["Serilog__MinimumLevel__Override__Meta.ComputeAccess.Web.Platform.DatabaseUnavailableHandler"] = "Error",
        }, line =>
        {
            if (line.Contains("Usage batch", StringComparison.Ordinal))
            {
                Console.WriteLine("  portal: " + Trim(line, 240));
            }
            else if (line.Contains("\"@l\":\"Error\"", StringComparison.Ordinal) || line.Contains("\"@l\":\"Fatal\"", StringComparison.Ordinal))
            {
                // Errors are expected while PostgreSQL is down (EF, Hangfire, health checks): counted, shown with --verbose.
                Interlocked.Increment(ref portalErrors);
                if (verbose)
                {
                    Console.WriteLine("  portal error: " + Trim(line, 2000));
                }
            }
        });
        if (Environment.GetEnvironmentVariable("MCA_FAULTS_PID_FILE") is { Length: > 0 } pidFile)
        {
            // fault-test.sh kills what is listed here if this driver itself is killed.
            await File.AppendAllTextAsync(pidFile, portal.Id.ToString(CultureInfo.InvariantCulture) + "\n");
        }
        await PortalHarness.WaitUntilLiveAsync(http, "/health/ready", 90);
    }

    private async Task StopPortalAsync()
    {
        if (portal is { HasExited: false })
        {
            portal.Kill(entireProcessTree: true);
            await portal.WaitForExitAsync();
        }
    }

    private async Task PgCtlAsync(params string[] args)
    {
        var bin = Environment.GetEnvironmentVariable("PORTAL_TEST_PG_BIN");
        var pgCtl = bin is { Length: > 0 } ? Path.Combine(bin, "pg_ctl") : "pg_ctl";
        ProcessStartInfo start;
        if (pgOwner is { Length: > 0 } && Environment.UserName == "root")
        {
            start = new ProcessStartInfo("runuser") { ArgumentList = { "-u", pgOwner, "--", pgCtl, "-s" } };
        }
        else
        {
            start = new ProcessStartInfo(pgCtl) { ArgumentList = { "-s" } };
        }
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"pg_ctl {string.Join(' ', args)} failed with exit code {process.ExitCode}");
        }
    }

    /// <summary>Waits until the portal's ingest transaction runs a step after the COPY (or the COPY itself, late).</summary>
    private async Task<(string Query, int Pid)> WaitForIngestStepAsync(TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        (string, int)? copy = null;
        while (watch.Elapsed < timeout)
        {
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"""
                SELECT pid, left(regexp_replace(query, '\s+', ' ', 'g'), 40) FROM pg_stat_activity
                WHERE application_name = '{ApplicationName}' AND state = 'active'
                  AND (query LIKE 'COPY usage_records%' OR query LIKE 'COPY unmatched_usage%' OR query LIKE 'INSERT INTO ledger_entries%' OR query LIKE 'SELECT u.job_id FROM unnest%')
                """, connection);
            for (var i = 0; i < 3000 && watch.Elapsed < timeout; i++)
            {
                await using (var reader = await command.ExecuteReaderAsync())
                {
                    if (await reader.ReadAsync())
                    {
                        var (pid, query) = (reader.GetInt32(0), reader.GetString(1));
                        if (!query.StartsWith("COPY", StringComparison.Ordinal))
                        {
                            return (query, pid);
                        }
                        copy ??= (query, pid);
                    }
                }
                await Task.Delay(15);
            }
        }
        return copy ?? ("", 0);
    }

    // ---------------------------------------------------------------- HTTP

    private sealed record Sample(string Stream, double Started, double Ended, int Status, string? Error);

    private async Task LoopAsync(HttpClient http, ConcurrentQueue<Sample> samples, string stream, Func<HttpRequestMessage> request, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var started = clock.Elapsed.TotalSeconds;
            var (status, error) = await SendAsync(http, request());
            samples.Enqueue(new Sample(stream, started, clock.Elapsed.TotalSeconds, status, error));
            await Delay(100, stop);
        }
    }

    private async Task WriterAsync(HttpClient http, ConcurrentQueue<Sample> samples, ConcurrentQueue<(int, int)> writes, string token, CancellationToken stop)
    {
        for (var batch = 0; !stop.IsCancellationRequested; batch++)
        {
            var started = clock.Elapsed.TotalSeconds;
            var (status, body) = await PostTextAsync(http, WriterBody(batch), token);
            writes.Enqueue((batch, status));
            samples.Enqueue(new Sample("usage batch", started, clock.Elapsed.TotalSeconds, status, status == 200 ? null : Trim(body)));
            await Delay(250, stop);
        }
    }

    private static async Task Delay(int ms, CancellationToken stop)
    {
        try
        {
            await Task.Delay(ms, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string WriterBody(int batch)
    {
        var text = new StringBuilder("JobID|Account|User|Start|End|ElapsedRaw|AllocTRES|State\n");
        var end = DateTime.UtcNow.Date.AddDays(-10);
        for (var i = 0; i < WriterBatch; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{WriterOffset + batch * 100 + i}|{PortalHarness.Account}|writer|{end.AddHours(-2):yyyy-MM-ddTHH:mm:ss}|{end:yyyy-MM-ddTHH:mm:ss}|7200|gres/gpu=2|COMPLETED\n");
        }
        return text.ToString();
    }

    private static HttpRequestMessage Get(string path, string? cookie = null, string? token = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookie);
        }
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return request;
    }

    private static async Task<(int Status, string? Error)> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        using (request)
        {
            try
            {
                using var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                var status = (int)response.StatusCode;
                var path = request.RequestUri!.IsAbsoluteUri ? request.RequestUri.AbsolutePath : request.RequestUri.OriginalString;
                // Health checks answer 503 by themselves (for load balancers); every other 503 must say when to retry.
                if (status == 503 && response.Headers.RetryAfter is null && !path.StartsWith("/health", StringComparison.Ordinal))
                {
                    return (599, "503 without Retry-After");
                }
                return (status, status == 200 ? null : Trim(body));
            }
            catch (HttpRequestException ex)
            {
                return (0, ex.Message);
            }
            catch (TaskCanceledException ex)
            {
                return (0, ex.Message);
            }
        }
    }

    private static async Task<(int Status, string Body)> PostTextAsync(HttpClient http, string text, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/v1/usage", UriKind.Relative)) { Content = new StringContent(text, Encoding.UTF8, "text/plain") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            using var response = await http.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException ex)
        {
            return (0, ex.Message);
        }
    }

    private static async Task<(int Status, string Body)> PostFileAsync(HttpClient http, string file, string token)
    {
        await using var body = File.OpenRead(file);
        using var request = PortalHarness.UsagePost(body, token);
        try
        {
            using var response = await http.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException ex)
        {
            return (0, ex.Message);
        }
        catch (IOException ex)
        {
            return (0, ex.Message);
        }
    }


    // ---------------------------------------------------------------- small helpers

    private static async Task<T> ScalarAsync<T>(string cs, string sql)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default! : (T)value;
    }

    private static async Task<bool> WaitAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (await condition())
            {
                return true;
            }
            await Task.Delay(250);
        }
        return false;
    }

    private void Record(string scenario, string check, string expected, string observed, bool ok)
    {
        results.Add((scenario, check, expected, observed, ok));
        Console.WriteLine($"  [{(ok ? "ok" : "FAIL")}] {scenario}: {check}: {observed}");
    }

    private void Log(string format, params object[] values) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{clock.Elapsed.TotalSeconds,6:F1} s] ") + string.Format(CultureInfo.InvariantCulture, format, values));

    private static string Trim(string? text, int max = 160) =>
        text is null ? "" : text.Length <= max ? text.ReplaceLineEndings(" ") : text[..max].ReplaceLineEndings(" ") + "…";

    private void PrintSummary()
    {
        Console.WriteLine();
        Console.WriteLine("| scenario | check | expected | observed | result |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var r in results)
        {
            Console.WriteLine($"| {r.Scenario} | {r.Check} | {r.Expected} | {r.Observed} | {(r.Ok ? "ok" : "**FAIL**")} |");
        }
        var failed = results.Count(r => !r.Ok);
        Console.WriteLine();
        Console.WriteLine(failed == 0 ? $"faults: all {results.Count} checks passed" : $"faults: {failed} of {results.Count} checks FAILED");
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Meta.ComputeAccess.Benchmarks;

/// <summary>
/// End-to-end usage ingest: a 1,000,000-job <c>sacct --parsable2</c> body POSTed to the real
/// <c>/api/v1/usage</c> of the portal running as its own process (Kestrel, Production settings) on a fresh
/// database, then the same body again (all duplicates), and as the baseline <c>psql \copy</c> of the same file
/// into a plain table of text columns.
/// </summary>
/// <remarks>
/// Options: <c>--pg &lt;admin connection string&gt;</c> (or env PORTAL_BENCH_PG / PORTAL_TEST_PG; a database
/// is created and dropped), <c>--records N</c>, <c>--web &lt;path to Meta.ComputeAccess.Web.dll&gt;</c> (default:
/// the Release build of this checkout), <c>--keep</c> (leave the database). psql comes from PORTAL_TEST_PG_BIN or PATH.
/// </remarks>
public sealed class UsageIngestBenchmark : IBenchmark
{
    public string Name => "ingest";

    public string Description => "POST /api/v1/usage with 1,000,000 sacct records through Kestrel vs psql \\copy [--pg CS] [--records N] [--web DLL] [--keep]";

    public async Task<int> RunAsync(string[] args)
    {
        var admin = PortalHarness.AdminConnectionString(args);
        if (string.IsNullOrWhiteSpace(admin))
        {
            Console.Error.WriteLine("ingest needs a PostgreSQL admin connection string: --pg \"Host=...;Username=postgres;Password=...\" or PORTAL_BENCH_PG.");
            return 2;
        }
        var records = int.Parse(PortalHarness.Option(args, "--records") ?? "1000000", CultureInfo.InvariantCulture);
        var web = PortalHarness.Option(args, "--web") ?? PortalHarness.FindWebDll();
        if (web is null || !File.Exists(web))
        {
            Console.Error.WriteLine("Build the portal first (dotnet build -c Release src/Meta.ComputeAccess.Web) or pass --web <path to Meta.ComputeAccess.Web.dll>.");
            return 2;
        }

        var database = $"mca_bench_ingest_{Environment.ProcessId}";
        var cs = new NpgsqlConnectionStringBuilder(admin) { Database = database, Pooling = true, CommandTimeout = 600 }.ConnectionString;
        await PortalHarness.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        await PortalHarness.ExecuteAsync(admin, $"CREATE DATABASE \"{database}\"");
        var file = Path.Combine(Path.GetTempPath(), $"mca-ingest-{Environment.ProcessId}.sacct");
        Process? portal = null;
        try
        {
            // Rates on: typed GPUs at a rate of their own, CPU-only jobs charged, and a partition multiplier, so every job is priced.
            var token = (await PortalHarness.PrepareAsync(cs, rates: ("gres/gpu=1\ngres/gpu:h100=1/2\ncpu=1/64", "gpu=1.5"))).Token;
            var bytes = PortalHarness.Generate(file, records, new Random(4711));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ingest: {records:N0} job records, {bytes / 1_048_576.0:F0} MiB sacct body, database {database}"));

            (portal, var http) = await PortalHarness.StartWarmedAsync(web, cs, token);
            using var client = http;

            var (first, firstSeconds) = await PortalHarness.PostTimedAsync(http, file, token);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  first POST:  {firstSeconds:F2} s = {records / firstSeconds:N0} records/s  {first}"));
            var (second, secondSeconds) = await PortalHarness.PostTimedAsync(http, file, token);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  same again:  {secondSeconds:F2} s = {records / secondSeconds:N0} records/s  {second}"));

            await using (var db = new PortalDbContext(PortalDatabase.Options(cs)))
            {
                var usage = await db.UsageRecords.SumAsync(u => u.GpuHours);
                var priced = await db.UsageRecords.Where(u => u.AllocationId != null).SumAsync(u => u.ChargedHours ?? u.GpuHours);
                var chargedGpu = await db.UsageRecords.Where(u => u.AllocationId != null).SumAsync(u => u.GpuHours);
                var charged = await db.LedgerEntries.Where(e => e.Kind == LedgerEntryKind.Usage).SumAsync(e => e.Hours);
                var unmatched = await db.UnmatchedUsage.SumAsync(u => u.GpuHours);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  check: usage records {usage:N2} GPU-h = charged {chargedGpu:N2} + unmatched {unmatched:N2}: {(usage == chargedGpu + unmatched ? "OK" : "MISMATCH")}; " +
                    $"priced {priced:N2} units = ledger {-charged:N2}: {(priced == -charged ? "OK" : "MISMATCH")}"));
            }

            var copySeconds = await PsqlCopyAsync(cs, file);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  baseline psql \\copy into a plain text table: {copySeconds:F2} s = {records / copySeconds:N0} records/s"));
            return 0;
        }
        finally
        {
            if (portal is { HasExited: false })
            {
                portal.Kill(entireProcessTree: true);
                await portal.WaitForExitAsync();
            }
            File.Delete(file);
            if (!args.Contains("--keep"))
            {
                NpgsqlConnection.ClearAllPools();
                await PortalHarness.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
            }
        }
    }

    private static async Task<double> PsqlCopyAsync(string cs, string file)
    {
        await PortalHarness.ExecuteAsync(cs, "DROP TABLE IF EXISTS plain_usage; CREATE TABLE plain_usage (job_id text, job_name text, account text, user_name text, partition text, submit_time text, start_time text, end_time text, elapsed text, alloc_tres text, state text, exit_code text)");
        var b = new NpgsqlConnectionStringBuilder(cs);
        var bin = Environment.GetEnvironmentVariable("PORTAL_TEST_PG_BIN");
        var psql = bin is { Length: > 0 } ? Path.Combine(bin, "psql") : "psql";
        var start = new ProcessStartInfo(psql)
        {
            ArgumentList = { "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", b.Host!, "-p", b.Port.ToString(CultureInfo.InvariantCulture), "-U", b.Username!, "-d", b.Database!,
                "-c", $"\\copy plain_usage FROM '{file}' WITH (FORMAT csv, DELIMITER '|', HEADER true)" },
            RedirectStandardError = true,
        };
        start.Environment["PGPASSWORD"] = b.Password;
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        watch.Stop();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("psql \\copy failed: " + error);
        }
        return watch.Elapsed.TotalSeconds;
    }
}

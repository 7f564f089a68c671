using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Meta.ComputeAccess.Allocation;
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

    private const string Account = "bench-acct";

    public async Task<int> RunAsync(string[] args)
    {
        var admin = BenchSupport.AdminConnectionString(args);
        if (string.IsNullOrWhiteSpace(admin))
        {
            Console.Error.WriteLine("ingest needs a PostgreSQL admin connection string: --pg \"Host=...;Username=postgres;Password=...\" or PORTAL_BENCH_PG.");
            return 2;
        }
        var records = int.Parse(BenchSupport.Option(args, "--records") ?? "1000000", CultureInfo.InvariantCulture);
        var web = BenchSupport.Option(args, "--web") ?? BenchSupport.FindWebDll();
        if (web is null || !File.Exists(web))
        {
            Console.Error.WriteLine("Build the portal first (dotnet build -c Release src/Meta.ComputeAccess.Web) or pass --web <path to Meta.ComputeAccess.Web.dll>.");
            return 2;
        }

        var database = $"mca_bench_ingest_{Environment.ProcessId}";
        var cs = new NpgsqlConnectionStringBuilder(admin) { Database = database, Pooling = true, CommandTimeout = 600 }.ConnectionString;
        await BenchSupport.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        await BenchSupport.ExecuteAsync(admin, $"CREATE DATABASE \"{database}\"");
        var file = Path.Combine(Path.GetTempPath(), $"mca-ingest-{Environment.ProcessId}.sacct");
        Process? portal = null;
        try
        {
            var token = await PrepareAsync(cs);
            var bytes = Generate(file, records, new Random(4711));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ingest: {records:N0} job records, {bytes / 1_048_576.0:F0} MiB sacct body, database {database}"));

            var port = BenchSupport.FreePort();
            portal = StartPortal(web, cs, port);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(30) };
            await BenchSupport.WaitUntilLiveAsync(http);
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

            // Warm-up: a small batch of other job ids, so JIT and connection pool are ready.
            var warm = Path.Combine(Path.GetTempPath(), $"mca-ingest-warm-{Environment.ProcessId}.sacct");
            Generate(warm, 10_000, new Random(1), jobIdOffset: 50_000_000);
            await PostAsync(http, warm);
            File.Delete(warm);

            var (first, firstSeconds) = await PostAsync(http, file);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  first POST:  {firstSeconds:F2} s = {records / firstSeconds:N0} records/s  {first}"));
            var (second, secondSeconds) = await PostAsync(http, file);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  same again:  {secondSeconds:F2} s = {records / secondSeconds:N0} records/s  {second}"));

            await using (var db = new PortalDbContext(PortalDatabase.Options(cs)))
            {
                var usage = await db.UsageRecords.SumAsync(u => u.GpuHours);
                var charged = await db.LedgerEntries.Where(e => e.Kind == LedgerEntryKind.Usage).SumAsync(e => e.Hours);
                var unmatched = await db.UnmatchedUsage.SumAsync(u => u.GpuHours);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  check: usage records {usage:N2} GPU-h = charged {-charged:N2} + unmatched {unmatched:N2}: {(usage == -charged + unmatched ? "OK" : "MISMATCH")}"));
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
                await BenchSupport.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
            }
        }
    }

    /// <summary>Migrates the database and adds a cluster, a period with ample capacity, one allocation and a token.</summary>
    private static async Task<string> PrepareAsync(string cs)
    {
        await using var db = new PortalDbContext(PortalDatabase.Options(cs));
        await db.Database.MigrateAsync();
        var clock = TimeProvider.System;
        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var pi = new PortalUser
        {
            UserName = "bench.pi@example.edu", NormalizedUserName = "BENCH.PI@EXAMPLE.EDU", Email = "bench.pi@example.edu", NormalizedEmail = "BENCH.PI@EXAMPLE.EDU",
            FullName = "Bench PI", Institution = "Bench", Country = "US", CreatedAt = now, SecurityStamp = Guid.NewGuid().ToString(),
        };
        db.Users.Add(pi);
        var cluster = Cluster.Create("Bench", "bench", "H100 80GB", 64, 8, "bench", now);
        db.Clusters.Add(cluster);
        var period = AllocationPeriod.Create("Bench period", today.AddDays(-365), today.AddDays(365), now);
        db.AllocationPeriods.Add(period);
        db.ClusterCapacities.Add(ClusterCapacity.Create(cluster.Id, period.Id, 1_000_000_000m, 1m, 0m, now));
        var (token, secret) = ClusterToken.Create(cluster.Id, "bench", null, now);
        db.ClusterTokens.Add(token);
        await db.SaveChangesAsync();
        var service = new AllocationService(db, new CapacityGuard(db), new AuditLog(db, clock), new AllocationNotices(db, new Notifier(db, new EmailOutbox(db, clock), new NotificationTemplates(),
            new UnsubscribeTokens(new Microsoft.AspNetCore.DataProtection.EphemeralDataProtectionProvider()), Microsoft.Extensions.Options.Options.Create(new SmtpOptions()), clock)), clock);
        await service.CreateAsync(new NewAllocation(period.Id, pi.Id, "Bench project", today.AddDays(-300), today.AddDays(300),
            new Dictionary<Guid, decimal> { [cluster.Id] = 500_000_000m }, SlurmAccount: Account), null);
        return secret;
    }

    /// <summary>Finished jobs only (one record per line): 95 % on the allocation's account, 5 % on unknown accounts.</summary>
    private static long Generate(string path, int records, Random random, int jobIdOffset = 1_000_000)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        writer.Write("JobID|JobName|Account|User|Partition|Start|End|ElapsedRaw|AllocTRES|State|ExitCode\n");
        var end = DateTime.UtcNow.Date.AddDays(-200);
        for (var i = 0; i < records; i++)
        {
            var account = random.Next(100) < 95 ? Account : $"unknown-{random.Next(20):D2}";
            var gpus = random.Next(9);
            var elapsed = random.Next(60, 86_400);
            var finish = end.AddSeconds(i * 15);
            var jobId = i % 5 == 0 ? $"{jobIdOffset + i}_{i % 7}" : (jobIdOffset + i).ToString(CultureInfo.InvariantCulture);
            var tres = gpus == 0 ? "billing=4,cpu=4,mem=16G,node=1" : $"billing={gpus * 8},cpu={gpus * 8},gres/gpu:h100={gpus},gres/gpu={gpus},mem={gpus * 64}G,node=1";
            writer.Write(string.Create(CultureInfo.InvariantCulture,
                $"{jobId}|train-{i % 97}|{account}|user{i % 2000:D4}|gpu|{finish.AddSeconds(-elapsed):yyyy-MM-ddTHH:mm:ss}|{finish:yyyy-MM-ddTHH:mm:ss}|{elapsed}|{tres}|COMPLETED|0:0\n"));
        }
        writer.Flush();
        return writer.BaseStream.Length;
    }

    private static async Task<(string Summary, double Seconds)> PostAsync(HttpClient http, string file)
    {
        await using var body = File.OpenRead(file);
        using var content = new StreamContent(body, 1 << 20);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        content.Headers.ContentLength = body.Length;
        var watch = Stopwatch.StartNew();
        using var response = await http.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), content);
        var text = await response.Content.ReadAsStringAsync();
        watch.Stop();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST answered {(int)response.StatusCode}: {text[..Math.Min(text.Length, 2000)]}");
        }
        using var json = JsonDocument.Parse(text);
        var r = json.RootElement;
        return ($"accepted {r.GetProperty("accepted").GetInt32():N0}, charged {r.GetProperty("charged").GetInt32():N0}, duplicate {r.GetProperty("duplicate").GetInt32():N0}, " +
                $"unmatched {r.GetProperty("unmatched").GetInt32():N0}, rejected {r.GetProperty("rejected").GetInt32():N0}", watch.Elapsed.TotalSeconds);
    }

    private static async Task<double> PsqlCopyAsync(string cs, string file)
    {
        await BenchSupport.ExecuteAsync(cs, "DROP TABLE IF EXISTS plain_usage; CREATE TABLE plain_usage (job_id text, job_name text, account text, user_name text, partition text, start_time text, end_time text, elapsed text, alloc_tres text, state text, exit_code text)");
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

    private static Process StartPortal(string webDll, string cs, int port)
    {
        var start = new ProcessStartInfo("dotnet") { ArgumentList = { webDll }, WorkingDirectory = Path.GetDirectoryName(webDll)!, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ConnectionStrings__Portal"] = cs;
        start.Environment["Jobs__RunServer"] = "false";
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        start.Environment["Serilog__MinimumLevel__Override__Meta.ComputeAccess.Usage.UsageIngest"] = "Information";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("Usage batch", StringComparison.Ordinal) == true)
            {
                Console.WriteLine("  portal: " + e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine("  portal: " + e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}

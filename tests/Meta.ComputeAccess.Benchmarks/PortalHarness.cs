using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Meta.ComputeAccess.Benchmarks;

/// <summary>What <see cref="PortalHarness.PrepareAsync"/> created.</summary>
/// <param name="Token">The cluster API token (secret) of cluster <c>bench</c>.</param>
/// <param name="AllocationId">The allocation whose Slurm account is <see cref="PortalHarness.Account"/>.</param>
public sealed record SeededPortal(string Token, Guid ClusterId, Guid AllocationId, Guid PiUserId);

/// <summary>
/// Shared by the ingest and fault benchmarks: seeds a database, writes realistic sacct files and runs the portal as
/// its own process (Kestrel, Production settings), as a cluster would see it.
/// </summary>
internal static partial class PortalHarness
{
    /// <summary>The Slurm account of the seeded allocation; 95 % of generated jobs run on it.</summary>
    public const string Account = "bench-acct";

    public static Notifier Notifier(PortalDbContext db, TimeProvider clock) =>
        new(db, new EmailOutbox(db, clock), new NotificationTemplates(),
            new UnsubscribeTokens(new Microsoft.AspNetCore.DataProtection.EphemeralDataProtectionProvider()), Microsoft.Extensions.Options.Options.Create(new SmtpOptions()), clock);

    public static AllocationService Allocations(PortalDbContext db, TimeProvider clock) =>
        new(db, new CapacityGuard(db), new AuditLog(db, clock), new AllocationNotices(db, Notifier(db, clock)), clock, Microsoft.Extensions.Options.Options.Create(new AllocationOptions()));

    /// <summary>Migrates the database and adds a cluster, a period with ample capacity, one allocation and a token.</summary>
    /// <param name="piPasswordHash">When given, the PI can sign in with the password it hashes (email confirmed).</param>
    /// <param name="rates">When given, the cluster's charge policy (rates, then partition multipliers), in force for every job.</param>
    public static async Task<SeededPortal> PrepareAsync(string cs, Func<PortalUser, string>? piPasswordHash = null, (string Rates, string Multipliers)? rates = null)
    {
        await Meta.ComputeAccess.Testing.TestDatabases.MigrateAsync(cs);
        await using var db = new PortalDbContext(PortalDatabase.Options(cs));
        var clock = TimeProvider.System;
        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var pi = new PortalUser
        {
            UserName = "bench.pi@example.edu", NormalizedUserName = "BENCH.PI@EXAMPLE.EDU", Email = "bench.pi@example.edu", NormalizedEmail = "BENCH.PI@EXAMPLE.EDU",
            FullName = "Bench PI", Institution = "Bench", Country = "US", CreatedAt = now, SecurityStamp = Guid.NewGuid().ToString(),
        };
        if (piPasswordHash is not null)
        {
            pi.PasswordHash = piPasswordHash(pi);
            pi.EmailConfirmed = true;
        }
        db.Users.Add(pi);
        var cluster = Cluster.Create("Bench", "bench", "H100 80GB", 64, 8, "bench", now);
        db.Clusters.Add(cluster);
        if (rates is { } policy)
        {
            db.ChargePolicies.Add(ChargePolicy.Create(cluster.Id, 1, DateTimeOffset.UnixEpoch, policy.Rates, policy.Multipliers, "Bench rates", null, now));
        }
        var period = AllocationPeriod.Create("Bench period", today.AddDays(-365), today.AddDays(365), now);
        db.AllocationPeriods.Add(period);
        db.ClusterCapacities.Add(ClusterCapacity.Create(cluster.Id, period.Id, 1_000_000_000m, 1m, 0m, now));
        var (token, secret) = ClusterToken.Create(cluster.Id, "bench", null, now);
        db.ClusterTokens.Add(token);
        await db.SaveChangesAsync();
        var allocation = await Allocations(db, clock).CreateAsync(new NewAllocation(period.Id, pi.Id, "Bench project", today.AddDays(-300), today.AddDays(300),
            new Dictionary<Guid, decimal> { [cluster.Id] = 500_000_000m }, SlurmAccount: Account), null);
        return new SeededPortal(secret, cluster.Id, allocation.Id, pi.Id);
    }

    /// <summary>
    /// Finished jobs only (one record per line): 95 % on the allocation's account, 5 % on unknown accounts; with a
    /// <c>Submit</c> column as the cluster agent sends it (each job waited up to an hour in the queue).
    /// </summary>
    public static long Generate(string path, int records, Random random, int jobIdOffset = 1_000_000)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        writer.Write("JobID|JobName|Account|User|Partition|Submit|Start|End|ElapsedRaw|AllocTRES|State|ExitCode\n");
        var end = DateTime.UtcNow.Date.AddDays(-200);
        for (var i = 0; i < records; i++)
        {
            var account = random.Next(100) < 95 ? Account : $"unknown-{random.Next(20):D2}";
            var gpus = random.Next(9);
            var elapsed = random.Next(60, 86_400);
            var finish = end.AddSeconds(i * 15);
            var jobId = i % 5 == 0 ? $"{jobIdOffset + i}_{i % 7}" : (jobIdOffset + i).ToString(CultureInfo.InvariantCulture);
            var tres = gpus == 0 ? "billing=4,cpu=4,mem=16G,node=1" : $"billing={gpus * 8},cpu={gpus * 8},gres/gpu:h100={gpus},gres/gpu={gpus},mem={gpus * 64}G,node=1";
            var start = finish.AddSeconds(-elapsed);
            // The queue wait comes from the index, not from random, so the other columns stay as they were before Submit.
            var submit = start.AddSeconds(-(i * 7919L % 3600));
            writer.Write(string.Create(CultureInfo.InvariantCulture,
                $"{jobId}|train-{i % 97}|{account}|user{i % 2000:D4}|gpu|{submit:yyyy-MM-ddTHH:mm:ss}|{start:yyyy-MM-ddTHH:mm:ss}|{finish:yyyy-MM-ddTHH:mm:ss}|{elapsed}|{tres}|COMPLETED|0:0\n"));
        }
        writer.Flush();
        return writer.BaseStream.Length;
    }

    /// <summary>Starts <c>Meta.ComputeAccess.Web.dll</c> on 127.0.0.1:<paramref name="port"/>; its output lines go to <paramref name="onLine"/>.</summary>
    public static Process StartPortal(string webDll, string cs, int port, IReadOnlyDictionary<string, string>? environment = null, Action<string>? onLine = null)
    {
        var start = new ProcessStartInfo("dotnet") { ArgumentList = { webDll }, WorkingDirectory = Path.GetDirectoryName(webDll)!, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ConnectionStrings__Portal"] = cs;
        start.Environment["Jobs__RunServer"] = "false";
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        start.Environment["Serilog__MinimumLevel__Override__Meta.ComputeAccess.Usage.UsageIngest"] = "Information";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start)!;
        onLine ??= line =>
        {
            if (line.Contains("Usage batch", StringComparison.Ordinal))
            {
                Console.WriteLine("  portal: " + line);
            }
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onLine(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine("  portal: " + e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static async Task WaitUntilLiveAsync(HttpClient http, string path = "/health/live", int seconds = 300)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed.TotalSeconds < seconds)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"The portal did not answer {path} within {seconds} s.");
    }

    public static string? FindWebDll()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Meta.ComputeAccess.sln")))
            {
                return Path.Combine(dir.FullName, "src", "Meta.ComputeAccess.Web", "bin", "Release", "net10.0", "Meta.ComputeAccess.Web.dll");
            }
        }
        return null;
    }

    public static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static async Task ExecuteAsync(string cs, string sql)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync();
    }

    public static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>The admin connection string from <c>--pg</c>, PORTAL_BENCH_PG or PORTAL_TEST_PG.</summary>
    public static string? AdminConnectionString(string[] args) =>
        Option(args, "--pg") ?? Environment.GetEnvironmentVariable("PORTAL_BENCH_PG") ?? Environment.GetEnvironmentVariable("PORTAL_TEST_PG");

    /// <summary>Stops a portal process started by a benchmark (it and its children only).</summary>
    public static async Task StopAsync(Process? process)
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>
    /// Starts the portal (<see cref="StartPortal"/>) on a free port, waits until it answers, and posts a 10,000-job warm-up
    /// batch of other job ids as the cluster of <paramref name="token"/>, so JIT and connection pool are ready. The client
    /// speaks as the TLS-terminating proxy does (production answers plain HTTP with 400).
    /// </summary>
    public static async Task<(Process Portal, HttpClient Http)> StartWarmedAsync(string webDll, string cs, string token)
    {
        var port = FreePort();
        var portal = StartPortal(webDll, cs, port);
        // Redirects and cookies stay the caller's (SignInAsync reads the sign-in's redirect and keeps its own cookies).
        var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }, disposeHandler: true)
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            Timeout = TimeSpan.FromMinutes(30),
        };
        await WaitUntilLiveAsync(http);
        http.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
        var warm = Path.Combine(Path.GetTempPath(), $"mca-warm-{Environment.ProcessId}.sacct");
        Generate(warm, 10_000, new Random(1), jobIdOffset: 50_000_000);
        await PostTimedAsync(http, warm, token);
        File.Delete(warm);
        return (portal, http);
    }

    /// <summary>A POST of a sacct body to the usage API as the cluster of <paramref name="token"/> (streamed from <paramref name="body"/>).</summary>
    public static HttpRequestMessage UsagePost(Stream body, string token)
    {
        var content = new StreamContent(body, 1 << 20);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        content.Headers.ContentLength = body.Length;
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/v1/usage", UriKind.Relative)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    /// <summary>POSTs a sacct file to the usage API as the cluster of <paramref name="token"/>; the answer's counts and the seconds it took. Throws unless 200.</summary>
    public static async Task<(string Summary, double Seconds)> PostTimedAsync(HttpClient http, string file, string token)
    {
        await using var body = File.OpenRead(file);
        using var request = UsagePost(body, token);
        var watch = Stopwatch.StartNew();
        using var response = await http.SendAsync(request);
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

    /// <summary>Signs a user in through the real form; returns the Cookie header to send (by hand: the cookies are Secure, the benchmarks run on http).</summary>
    public static async Task<string> SignInAsync(HttpClient http, string email, string password)
    {
        var jar = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var form = await http.GetAsync(new Uri("/Account/Login", UriKind.Relative)))
        {
            Keep(form, jar);
            var html = await form.Content.ReadAsStringAsync();
            if (form.StatusCode != HttpStatusCode.OK || jar.Count == 0)
            {
                throw new InvalidOperationException($"The sign-in form answered {(int)form.StatusCode} with {jar.Count} cookies: {string.Join(", ", form.Headers.Select(h => h.Key))}");
            }
            var token = WebUtility.HtmlDecode(TokenPattern().Match(html).Groups[1].Value);
            using var post = new HttpRequestMessage(HttpMethod.Post, new Uri("/Account/Login", UriKind.Relative))
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["Input.Email"] = email,
                    ["Input.Password"] = password,
                    ["__RequestVerificationToken"] = token,
                }),
            };
            post.Headers.TryAddWithoutValidation("Cookie", string.Join("; ", jar.Select(c => $"{c.Key}={c.Value}")));
            using var signedIn = await http.SendAsync(post);
            if (signedIn.StatusCode != HttpStatusCode.Redirect)
            {
                throw new InvalidOperationException($"Sign-in of {email} failed: {(int)signedIn.StatusCode}");
            }
            Keep(signedIn, jar);
        }
        return string.Join("; ", jar.Select(c => $"{c.Key}={c.Value}"));

        static void Keep(HttpResponseMessage response, Dictionary<string, string> jar)
        {
            foreach (var header in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
            {
                var pair = header.Split(';', 2)[0];
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    jar[pair[..eq]] = pair[(eq + 1)..];
                }
            }
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}

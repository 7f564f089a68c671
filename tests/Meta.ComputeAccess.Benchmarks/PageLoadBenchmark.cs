using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Meta.ComputeAccess.Benchmarks;

/// <summary>
/// Pages under load: the portal runs as its own process (Kestrel, Production settings, Hangfire server off) on a
/// fresh database holding one open call with 10,000 submitted proposals; 32 clients, each its own signed-in
/// session, request one page after another (closed loop) for a warm-up and then a fixed measured time per scenario.
/// Every request's latency is taken with a Stopwatch around send + reading the whole body.
/// </summary>
/// <remarks>
/// The clients talk to Kestrel as the production reverse proxy does: plain HTTP on loopback with
/// <c>X-Forwarded-Proto: https</c> and an <c>X-Forwarded-For</c> address of their own (so the per-address sign-in
/// rate limit applies per client as it would to 32 people), and they keep the cookies the proxy passes through,
/// <c>Secure</c> ones included. Admins sign in with password and an authenticator code (RFC 6238) because staff
/// pages need two-factor in Production. No setting of the portal is changed apart from the connection string,
/// the URL and <c>Jobs:RunServer=false</c>.
/// Options: <c>--pg CS</c> (or PORTAL_BENCH_PG / PORTAL_TEST_PG), <c>--proposals N</c> (10000), <c>--clients N</c> (32),
/// <c>--seconds S</c> measured per scenario (20), <c>--warmup S</c> (5), <c>--only a,b</c> (scenario names),
/// <c>--web DLL</c>, <c>--keep</c> (leave the database).
/// </remarks>
public sealed partial class PageLoadBenchmark : IBenchmark
{
    public string Name => "pages";

    public string Description => "dashboard, admin proposal list of 10,000, proposal page at 32 concurrent signed-in clients [--pg CS] [--proposals N] [--clients N] [--seconds S] [--only a,b] [--keep]";

    private const string CallSlug = "bench-call";
    private const int OwnSubmitted = 10;
    private const int OwnDrafts = 2;
    private const int CoInvestigatorOn = 5;

    public async Task<int> RunAsync(string[] args)
    {
        var admin = PortalHarness.AdminConnectionString(args);
        if (string.IsNullOrWhiteSpace(admin))
        {
            Console.Error.WriteLine("pages needs a PostgreSQL admin connection string: --pg \"Host=...;Username=postgres;Password=...\" or PORTAL_BENCH_PG.");
            return 2;
        }
        var web = PortalHarness.Option(args, "--web") ?? PortalHarness.FindWebDll();
        if (web is null || !File.Exists(web))
        {
            Console.Error.WriteLine("Build the portal first (dotnet build -c Release src/Meta.ComputeAccess.Web) or pass --web <path to Meta.ComputeAccess.Web.dll>.");
            return 2;
        }
        var settings = new Settings(
            Proposals: int.Parse(PortalHarness.Option(args, "--proposals") ?? "10000", CultureInfo.InvariantCulture),
            Clients: int.Parse(PortalHarness.Option(args, "--clients") ?? "32", CultureInfo.InvariantCulture),
            Measured: TimeSpan.FromSeconds(double.Parse(PortalHarness.Option(args, "--seconds") ?? "20", CultureInfo.InvariantCulture)),
            WarmUp: TimeSpan.FromSeconds(double.Parse(PortalHarness.Option(args, "--warmup") ?? "5", CultureInfo.InvariantCulture)));
        var only = PortalHarness.Option(args, "--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        var database = $"mca_bench_pages_{Environment.ProcessId}";
        var cs = new NpgsqlConnectionStringBuilder(admin) { Database = database, Pooling = true, CommandTimeout = 600 }.ConnectionString;
        await PortalHarness.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        await PortalHarness.ExecuteAsync(admin, $"CREATE DATABASE \"{database}\"");
        Process? portal = null;
        Process? baseline = null;
        var log = new PortalLog();
        try
        {
            var watch = Stopwatch.StartNew();
            var data = await SeedAsync(cs, settings);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"pages: seeded {data.Submitted:N0} submitted proposals (+{data.Drafts} drafts) in call '{CallSlug}', {data.Users:N0} users, {data.Clusters} clusters, database {database}, {watch.Elapsed.TotalSeconds:F0} s"));

            var port = PortalHarness.FreePort();
            var baseAddress = new Uri($"http://127.0.0.1:{port}");
            portal = StartPortal(web, cs, port, log);
            using (var probe = new HttpClient { BaseAddress = baseAddress })
            {
                await PortalHarness.WaitUntilLiveAsync(probe);
            }
            // The baseline: a bare ASP.NET Core endpoint reading 12 rows with raw Npgsql, its own process on the same database.
            var baselineAddress = new Uri($"http://127.0.0.1:{PortalHarness.FreePort()}");
            baseline = BaselinePageServer.Start(cs, baselineAddress.Port);
            using (var probe = new HttpClient { BaseAddress = baselineAddress })
            {
                await PortalHarness.WaitUntilLiveAsync(probe);
            }

            watch.Restart();
            var researchers = await SignInAllAsync(baseAddress, data.Researchers, data.Password, 0);
            var admins = await SignInAllAsync(baseAddress, data.Admins, data.Password, 1);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  signed in {researchers.Count} researchers (password) and {admins.Count} admins (password + authenticator code), each from its own forwarded address, {watch.Elapsed.TotalSeconds:F1} s"));

            watch.Restart();
            var lists = await CrawlListsAsync(admins, data);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  followed the admin list's Next links: {lists.Pages.Count:N0} pages in 5 orders, {lists.Filtered.Count} filtered, {lists.Searched.Count} searched, {watch.Elapsed.TotalSeconds:F1} s"));
            var scenarios = Scenarios(data, lists).Where(s => only is null || only.Contains(s.Name, StringComparer.OrdinalIgnoreCase)).ToList();
            foreach (var s in scenarios)
            {
                await CheckAsync(s, s.Admin ? admins[0] : researchers[0]);
            }
            var baselineScenario = new Scenario("baseline (raw Npgsql)", false, (_, r) => $"{BaselinePageServer.Path}?user={data.Researchers[r.Next(data.Researchers.Count)].Id}", "<td>");
            var baselineSessions = researchers.Select((_, i) => new Session(baselineAddress, $"10.9.0.{i + 1}", [])).ToList();
            await CheckAsync(baselineScenario, baselineSessions[0]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {settings.Clients} clients per scenario, closed loop, {settings.WarmUp.TotalSeconds:F0} s warm-up then {settings.Measured.TotalSeconds:F0} s measured; latency = send until the whole body is read"));
            Console.WriteLine("  'alone' = p50 of one client by itself for 5 s just before (the service time without queueing)");
            Console.WriteLine("  'CPU ms/req' = CPU time per measured request of the portal process / its PostgreSQL backends / this client (from /proc)");
            Console.WriteLine("  'ratio' = the scenario's req/s over the raw-Npgsql baseline's (a bare ASP.NET Core endpoint reading 12 rows), measured first and last in this run; budget >= 0.2");
            Console.WriteLine($"  {"scenario",-21} {"alone",6} {"requests",9} {"req/s",7} {"ratio",5} {"p50 ms",7} {"p90 ms",7} {"p99 ms",7} {"max ms",7} {"errors",6} {"KiB",5}  {"CPU ms/req",-16} load avg   budget p99 <= 100 ms, ratio >= 0.2");
            var failed = false;
            async Task<Result> MeasureAsync(Scenario s, IReadOnlyList<Session> sessions, CpuMeter cpu, double? baselineRate)
            {
                var alone = await LoadAsync(s, sessions.Take(1).ToList(), settings with { Measured = TimeSpan.FromSeconds(5), WarmUp = TimeSpan.FromSeconds(1) });
                var result = await LoadAsync(s, sessions, settings, cpu);
                var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
                var rate = result.Count / settings.Measured.TotalSeconds;
                var ratio = baselineRate is { } b ? rate / b : 1.0;
                var verdict = result.Errors > 0 ? "ERRORS"
                    : baselineRate is null ? "(baseline)"
                    : (result.P99 <= 100 ? "p99 met" : "p99 NOT MET") + (ratio >= 0.2 ? ", ratio met" : ", ratio NOT MET");
                failed |= result.Errors > 0;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {s.Name,-21} {alone.P50,6:F1} {result.Count,9:N0} {rate,7:F0} {ratio,5:F2} {result.P50,7:F1} {result.P90,7:F1} {result.P99,7:F1} {result.Max,7:F1} {result.Errors,6} {result.MeanBytes / 1024.0,5:F0}  {result.Cpu,-16} {load,-8}   {verdict}"));
                if (result.FirstError is not null)
                {
                    Console.WriteLine("    first error: " + result.FirstError);
                }
                return result;
            }
            var baselineCpu = new CpuMeter(baseline, database);
            var before = await MeasureAsync(baselineScenario, baselineSessions, baselineCpu, null);
            var baselineRate = before.Count / settings.Measured.TotalSeconds;
            var cpu = new CpuMeter(portal, database);
            foreach (var s in scenarios)
            {
                await MeasureAsync(s, s.Admin ? admins : researchers, cpu, baselineRate);
            }
            // Again at the end: how far the machine's load moved the baseline during the run.
            var after = await MeasureAsync(baselineScenario with { Name = "baseline, again" }, baselineSessions, baselineCpu, baselineRate);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  baseline {baselineRate:F0} req/s first, {after.Count / settings.Measured.TotalSeconds:F0} req/s last; ratios are to the first"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  portal log: {log.Lines:N0} lines, {log.Errors} at error level"));
            return failed ? 1 : 0;
        }
        finally
        {
            await PortalHarness.StopAsync(portal);
            await PortalHarness.StopAsync(baseline);
            if (!args.Contains("--keep"))
            {
                NpgsqlConnection.ClearAllPools();
                await PortalHarness.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
            }
        }
    }

    private sealed record Settings(int Proposals, int Clients, TimeSpan Measured, TimeSpan WarmUp);

    /// <summary>A page to measure: the URL each request of a client asks for, and a text a correct answer contains.</summary>
    private sealed record Scenario(string Name, bool Admin, Func<Session, Random, string> Next, string Marker);

    private sealed record Result(int Count, double P50, double P90, double P99, double Max, int Errors, double MeanBytes, string? FirstError, string Cpu = "");

    /// <summary>The admin list's pages as an admin reaches them: the first page of each order or filter, then its Next links.</summary>
    private sealed record ListPages(IReadOnlyList<string> Pages, IReadOnlyList<string> Sorted, IReadOnlyList<string> Filtered, IReadOnlyList<string> Searched);

    /// <summary>
    /// The list is paged by keyset (each Next link carries the last row's position), so a deep page is reached by following
    /// the links, as a person would: every page of the whole list in the default order and in each of the four sorts, the
    /// first five pages of each filter, the first two of 80 searches (one or two words, half ordered by relevance).
    /// </summary>
    private static async Task<ListPages> CrawlListsAsync(IReadOnlyList<Session> admins, SeedResult data)
    {
        var list = $"/Admin/Calls/Proposals/{CallSlug}";
        string[] sorts = ["title", "pi", "status", "hours"];
        string[] statuses = [nameof(ProposalStatus.Submitted), nameof(ProposalStatus.Screening), nameof(ProposalStatus.InReview)];
        var random = new Random(17);
        var starts = new List<(string Kind, string Url, int Pages)> { ("page", list, int.MaxValue) };
        starts.AddRange(sorts.Select(s => ("sorted", $"{list}?sort={s}", int.MaxValue)));
        starts.AddRange(statuses.Select(s => ("filtered", $"{list}?status={s}", 5)));
        starts.AddRange(data.ClusterIds.Select(c => ("filtered", $"{list}?cluster={c}", 5)));
        starts.AddRange(ResearchFields.All.Select(f => ("filtered", $"{list}?field={Uri.EscapeDataString(f)}", 5)));
        for (var i = 0; i < 80; i++)
        {
            var q = random.Next(2) == 0 ? Terms[random.Next(Terms.Length)] : $"{Terms[random.Next(Terms.Length)]} {Terms[random.Next(Terms.Length)]}";
            starts.Add(("searched", $"{list}?q={Uri.EscapeDataString(q)}{(random.Next(2) == 0 ? "&sort=relevance" : "")}", 2));
        }
        var found = new List<string>[starts.Count];
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(starts.Select(async (start, i) =>
        {
            await gate.WaitAsync();
            try
            {
                var session = admins[i % admins.Count];
                var urls = found[i] = [];
                for (var url = start.Url; url is not null && urls.Count < start.Pages;)
                {
                    urls.Add(url);
                    using var response = await session.GetAsync(url, CancellationToken.None);
                    var html = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        throw new InvalidOperationException($"GET {url} answered {(int)response.StatusCode} while following the list's links");
                    }
                    url = NextLink().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value) : null;
                }
            }
            finally
            {
                gate.Release();
            }
        }));
        List<string> Of(string kind) => [.. starts.Select((s, i) => (s.Kind, Urls: found[i])).Where(x => x.Kind == kind).SelectMany(x => x.Urls)];
        return new ListPages(Of("page"), Of("sorted"), Of("filtered"), Of("searched"));
    }

    [GeneratedRegex("href=\"([^\"]+)\">Next</a>")]
    private static partial Regex NextLink();

    private static List<Scenario> Scenarios(SeedResult data, ListPages lists) =>
    [
        new("dashboard-researcher", false, (_, _) => "/", "Your proposals"),
        // The admin's queues, with the benchmark call's row (its proposals wait for screening and reviewers).
        new("dashboard-admin", true, (_, _) => "/", $"<tr data-call=\"{CallSlug}\">"),
        new("proposal-details", false, (s, r) => $"/Proposals/Details/{s.OwnProposals[r.Next(s.OwnProposals.Count)]}", "Timeline"),
        // Any page of the whole list in the default order (submitted first), uniformly.
        new("list-page", true, (_, r) => lists.Pages[r.Next(lists.Pages.Count)], " found"),
        // Any page in one of the sorts by title, PI, status or hours.
        new("list-sorted", true, (_, r) => lists.Sorted[r.Next(lists.Sorted.Count)], " found"),
        // One filter at a time (status, cluster or field), first five pages.
        new("list-filtered", true, (_, r) => lists.Filtered[r.Next(lists.Filtered.Count)], " found"),
        // Full text: one or two words, half of them ordered by relevance, first two pages.
        new("list-search", true, (_, r) => lists.Searched[r.Next(lists.Searched.Count)], " found"),
    ];

    private static async Task CheckAsync(Scenario scenario, Session session)
    {
        var url = scenario.Next(session, new Random(1));
        using var response = await session.GetAsync(url, CancellationToken.None);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK || !body.Contains(scenario.Marker, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{scenario.Name}: GET {url} answered {(int)response.StatusCode} {response.Headers.Location} without '{scenario.Marker}'");
        }
    }

    private static async Task<Result> LoadAsync(Scenario scenario, IReadOnlyList<Session> sessions, Settings settings, CpuMeter? cpu = null)
    {
        var latencies = new List<double>[sessions.Count];
        var bytes = new long[sessions.Count];
        var errors = new int[sessions.Count];
        string? firstError = null;
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + (long)(settings.WarmUp.TotalSeconds * Stopwatch.Frequency);
        var stopAt = measureFrom + (long)(settings.Measured.TotalSeconds * Stopwatch.Frequency);
        using var timeout = new CancellationTokenSource(settings.WarmUp + settings.Measured + TimeSpan.FromSeconds(60));
        Task<CpuMeter.Reading>? cpuAtStart = cpu is null ? null : Task.Run(async () =>
        {
            await Task.Delay(settings.WarmUp);
            return cpu.Read();
        });
        await Task.WhenAll(sessions.Select((session, i) => Task.Run(async () =>
        {
            var random = new Random(i * 7919 + scenario.Name.Length);
            var own = latencies[i] = new List<double>(4096);
            while (Stopwatch.GetTimestamp() < stopAt && !timeout.IsCancellationRequested)
            {
                var url = scenario.Next(session, random);
                var begin = Stopwatch.GetTimestamp();
                string? error = null;
                long length = 0;
                try
                {
                    using var response = await session.GetAsync(url, timeout.Token);
                    var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
                    length = body.Length;
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        error = $"GET {url} answered {(int)response.StatusCode} {response.Headers.Location}";
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
                {
                    error = $"GET {url}: {ex.GetType().Name} {ex.Message}";
                }
                var end = Stopwatch.GetTimestamp();
                if (begin < measureFrom)
                {
                    continue;
                }
                own.Add((end - begin) * 1000.0 / Stopwatch.Frequency);
                bytes[i] += length;
                if (error is not null)
                {
                    errors[i]++;
                    Interlocked.CompareExchange(ref firstError, error, null);
                }
            }
        })));
        var cpuText = "";
        if (cpu is not null && cpuAtStart is not null)
        {
            var (before, after) = (await cpuAtStart, cpu.Read());
            var n = Math.Max(1, latencies.Sum(l => l.Count));
            cpuText = string.Create(CultureInfo.InvariantCulture,
                $"{(after.Portal - before.Portal) / n:F2}/{CpuMeter.Delta(before.Db, after.Db) / n:F2}/{(after.Client - before.Client) / n:F2}");
        }
        var all = latencies.SelectMany(l => l).Order().ToArray();
        if (all.Length == 0)
        {
            return new Result(0, 0, 0, 0, 0, errors.Sum(), 0, firstError ?? "no request finished");
        }
        return new Result(all.Length, Percentile(all, 50), Percentile(all, 90), Percentile(all, 99), all[^1], errors.Sum(), bytes.Sum() / (double)all.Length, firstError, cpuText);
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    private static double Percentile(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1)];

    // ---------------------------------------------------------------- sign-in

    private static async Task<List<Session>> SignInAllAsync(Uri baseAddress, IReadOnlyList<SeededUser> users, string password, int addressBlock)
    {
        var sessions = new Session[users.Count];
        // A few at a time: each sign-in hashes the password (PBKDF2), which is CPU the portal should not queue up.
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(users.Select(async (user, i) =>
        {
            await gate.WaitAsync();
            try
            {
                var session = new Session(baseAddress, $"10.{addressBlock}.{i / 250}.{i % 250 + 1}", user.OwnProposals);
                await session.SignInAsync(user.Email, password, user.AuthenticatorKey);
                sessions[i] = session;
            }
            finally
            {
                gate.Release();
            }
        }));
        return [.. sessions];
    }

    /// <summary>
    /// One person's browser behind the TLS-terminating reverse proxy: its own connection, its own cookies (kept by
    /// hand because HttpClient's CookieContainer withholds <c>Secure</c> cookies from an http:// address, which the
    /// proxy does not), its own forwarded client address.
    /// </summary>
    private sealed partial class Session(Uri baseAddress, string forwardedFor, IReadOnlyList<Guid> ownProposals)
    {
        private readonly HttpClient http = new(new SocketsHttpHandler
        {
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            MaxConnectionsPerServer = 1,
        })
        { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };

        private readonly Dictionary<string, string> cookies = new(StringComparer.Ordinal);

        public IReadOnlyList<Guid> OwnProposals => ownProposals;

        public async Task<HttpResponseMessage> GetAsync(string url, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url, UriKind.Relative));
            return await SendAsync(request, cancellationToken);
        }

        public async Task SignInAsync(string email, string password, string? authenticatorKey)
        {
            var token = await FormTokenAsync("/Account/Login");
            using var step1 = await PostAsync("/Account/Login", new Dictionary<string, string>
            {
                ["Input.Email"] = email,
                ["Input.Password"] = password,
                ["__RequestVerificationToken"] = token,
            });
            var location = step1.Headers.Location?.OriginalString ?? "";
            if (authenticatorKey is null)
            {
                Expect(step1, location == "/", $"{email}: password sign-in");
                return;
            }
            Expect(step1, location.StartsWith("/Account/LoginWith2fa", StringComparison.Ordinal), $"{email}: password step");
            var token2 = await FormTokenAsync(location);
            using var step2 = await PostAsync(location, new Dictionary<string, string>
            {
                ["Input.Code"] = Totp.Code(authenticatorKey),
                ["__RequestVerificationToken"] = token2,
            });
            Expect(step2, step2.Headers.Location?.OriginalString == "/", $"{email}: authenticator code step");
        }

        private static void Expect(HttpResponseMessage response, bool ok, string step)
        {
            if (response.StatusCode != HttpStatusCode.Redirect || !ok)
            {
                throw new InvalidOperationException($"{step} answered {(int)response.StatusCode} {response.Headers.Location}");
            }
        }

        private async Task<string> FormTokenAsync(string url)
        {
            using var page = await GetAsync(url, CancellationToken.None);
            var html = await page.Content.ReadAsStringAsync();
            return TokenPattern().Match(html) is { Success: true } m
                ? WebUtility.HtmlDecode(m.Groups[1].Value)
                : throw new InvalidOperationException($"GET {url} answered {(int)page.StatusCode} without an antiforgery token");
        }

        private async Task<HttpResponseMessage> PostAsync(string url, Dictionary<string, string> form)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, UriKind.Relative)) { Content = new FormUrlEncodedContent(form) };
            var response = await SendAsync(request, CancellationToken.None);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                throw new InvalidOperationException($"POST {url} was rate-limited: is X-Forwarded-For from loopback honoured?");
            }
            return response;
        }

        private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Add("X-Forwarded-Proto", "https");
            request.Headers.Add("X-Forwarded-For", forwardedFor);
            string header;
            lock (cookies)
            {
                header = string.Join("; ", cookies.Select(c => c.Key + "=" + c.Value));
            }
            if (header.Length > 0)
            {
                request.Headers.Add("Cookie", header);
            }
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.Headers.TryGetValues("Set-Cookie", out var setCookies))
            {
                lock (cookies)
                {
                    foreach (var line in setCookies)
                    {
                        Keep(line);
                    }
                }
            }
            return response;
        }

        /// <summary>name=value up to the first ';'; a cookie set empty or expired is removed.</summary>
        private void Keep(string setCookie)
        {
            var pair = setCookie.Split(';', 2)[0];
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                return;
            }
            var name = pair[..eq].Trim();
            var value = pair[(eq + 1)..].Trim();
            var expired = ExpiresPattern().Match(setCookie) is { Success: true } m
                && DateTimeOffset.TryParse(m.Groups[1].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expires)
                && expires < DateTimeOffset.UtcNow;
            if (value.Length == 0 || expired)
            {
                cookies.Remove(name);
            }
            else
            {
                cookies[name] = value;
            }
        }

        [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*?value=\"([^\"]+)\"")]
        private static partial Regex TokenPattern();

        [GeneratedRegex("expires=([^;]+)", RegexOptions.IgnoreCase)]
        private static partial Regex ExpiresPattern();
    }

    /// <summary>
    /// CPU time (ms) of the portal process, of the PostgreSQL backends serving the benchmark's database (found by
    /// the database name in their process title) and of this process, read from /proc. On a machine shared with
    /// other work this is the load-independent part of the cost: wall-clock latency adds the waiting for a core.
    /// </summary>
    private sealed class CpuMeter(Process portal, string database)
    {
        public sealed record Reading(double Portal, IReadOnlyDictionary<int, double> Db, double Client);

        public Reading Read()
        {
            portal.Refresh();
            var db = new Dictionary<int, double>();
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var pid))
                {
                    continue;
                }
                try
                {
                    if (!File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(database, StringComparison.Ordinal))
                    {
                        continue;
                    }
                    // Fields after the ")" that ends the command name: state is 3rd, utime 14th, stime 15th (clock ticks of 10 ms).
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    db[pid] = (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0;
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
            return new Reading(portal.TotalProcessorTime.TotalMilliseconds, db, Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds);
        }

        /// <summary>CPU of the backends between two readings; a backend that appeared in between counts from zero.</summary>
        public static double Delta(IReadOnlyDictionary<int, double> before, IReadOnlyDictionary<int, double> after) =>
            after.Sum(a => a.Value - before.GetValueOrDefault(a.Key));
    }

    // ---------------------------------------------------------------- portal process

    private sealed class PortalLog
    {
        private int lines;
        private int errors;

        public int Lines => lines;

        public int Errors => errors;

        public void Add(string line)
        {
            Interlocked.Increment(ref lines);
            // Production logs compact JSON ("@l":"Error"); an error is printed, the rest only counted.
            if (line.Contains("\"@l\":\"Error\"", StringComparison.Ordinal) || line.Contains("\"@l\":\"Fatal\"", StringComparison.Ordinal))
            {
                if (Interlocked.Increment(ref errors) <= 5)
                {
                    Console.Error.WriteLine("  portal: " + line[..Math.Min(line.Length, 2000)]);
                }
            }
        }
    }

    /// <summary>The portal with its Production settings; its log (request logging at Information included) is read and counted.</summary>
    private static Process StartPortal(string webDll, string cs, int port, PortalLog log)
    {
        var start = new ProcessStartInfo("dotnet") { ArgumentList = { webDll }, WorkingDirectory = Path.GetDirectoryName(webDll)!, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ConnectionStrings__Portal"] = cs;
        start.Environment["Jobs__RunServer"] = "false";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { log.Add(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine("  portal: " + e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    // ---------------------------------------------------------------- data

    private sealed record SeededUser(Guid Id, string Email, string? AuthenticatorKey, IReadOnlyList<Guid> OwnProposals);

    private sealed record SeedResult(int Submitted, int Drafts, int Users, int Clusters, IReadOnlyList<Guid> ClusterIds, IReadOnlyList<SeededUser> Researchers, IReadOnlyList<SeededUser> Admins, string Password);

    private static readonly string[] Vocabulary =
    [
        "protein", "diffusion", "language", "speech", "robot", "climate", "transformer", "reinforcement", "vision", "graph",
        "molecule", "weather", "alignment", "retrieval", "multilingual", "segmentation", "genome", "materials", "ocean", "agent",
        "translation", "summarization", "tokenizer", "sparse", "quantization", "distillation", "federated", "privacy", "fairness", "interpretability",
        "medical", "radiology", "pathology", "satellite", "flood", "wildfire", "crop", "seismic", "turbulence", "plasma",
        "chemistry", "catalyst", "battery", "astronomy", "galaxy", "neuroscience", "cognition", "education", "legal", "finance",
        "code", "theorem", "mathematics", "reasoning", "planning", "navigation", "manipulation", "video", "audio", "music",
    ];

    /// <summary>
    /// Topic words for titles, keywords, abstracts and searches: the real words above and made-up ones to 400, drawn
    /// uniformly, so a one-word search matches about a tenth of the proposals and a two-word search about 1 %.
    /// </summary>
    private static readonly string[] Terms = [.. Vocabulary, .. MadeUpWords(400 - Vocabulary.Length)];

    private static IEnumerable<string> MadeUpWords(int count)
    {
        string[] onsets = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"];
        string[] vowels = ["a", "e", "i", "o", "u"];
        var random = new Random(400);
        var words = new HashSet<string>(StringComparer.Ordinal);
        while (words.Count < count)
        {
            words.Add(string.Concat(Enumerable.Range(0, 3).Select(_ => onsets[random.Next(onsets.Length)] + vowels[random.Next(vowels.Length)])) + "n");
        }
        return words.Order(StringComparer.Ordinal);
    }

    private static readonly string[] Filler =
    [
        "we", "train", "evaluate", "large", "models", "on", "new", "data", "for", "the", "and", "with", "scale", "open", "benchmark",
        "study", "how", "methods", "improve", "results", "across", "tasks", "using", "public", "compute", "efficient", "training",
    ];

    private static readonly string[] Institutions =
    [
        "University of Example", "Example Institute of Technology", "Northern Research Lab", "Southern University", "Lakeside College",
        "Mountain State University", "Coastal Institute", "Capital University", "River Valley University", "Metropolitan Research Centre",
    ];

    private static async Task<SeedResult> SeedAsync(string cs, Settings settings)
    {
        var random = new Random(20261126);
        var password = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18));
        var now = DateTimeOffset.UtcNow;
        var opens = now.AddDays(-60);
        Guid researcherRole, adminRole;
        Call call;
        List<Guid> clusterIds;
        var researchers = new List<(PortalUser User, List<Guid> Own)>();
        var admins = new List<(PortalUser User, string Key)>();
        var others = new List<PortalUser>();
        await TestDatabases.MigrateAsync(cs);
        await using (var db = new PortalDbContext(PortalDatabase.Options(cs)))
        {
            researcherRole = await db.Roles.Where(r => r.Name == Roles.Researcher).Select(r => r.Id).SingleAsync();
            adminRole = await db.Roles.Where(r => r.Name == Roles.Admin).Select(r => r.Id).SingleAsync();

            var clusters = new[]
            {
                Cluster.Create("Aurora", "aurora", "H100 80GB", 128, 8, "aurora", opens),
                Cluster.Create("Borealis", "borealis", "A100 40GB", 64, 8, "borealis", opens),
                Cluster.Create("Cirrus", "cirrus", "MI300X", 32, 8, "cirrus", opens),
                Cluster.Create("Delta", "delta", "L40S", 48, 4, "delta", opens),
            };
            db.Clusters.AddRange(clusters);
            clusterIds = [.. clusters.Select(c => c.Id)];

            call = Call.Create("Open compute call 2027", CallSlug, opens);
            call.SetTexts("Open compute call 2027", "Time on the program's clusters for open AI research.", "Researchers at accredited institutions.");
            call.SetSchedule(CallKind.Fixed, opens, now.AddDays(30), DateOnly.FromDateTime(now.UtcDateTime).AddMonths(2), DateOnly.FromDateTime(now.UtcDateTime).AddMonths(14), "UTC");
            foreach (var c in clusters)
            {
                call.OfferCluster(c.Id, 50_000_000m, 100m, 200_000m);
            }
            call.AddCriterion("Scientific merit", "Is the question important and the approach sound?", 1m);
            call.AddCriterion("Feasibility", "Can the team do it with these hours?", 1m);
            call.Open(opens);
            db.Calls.Add(call);

            // The same password for every seeded account, hashed once (each hash costs PBKDF2 time, the sign-in pays it anyway).
            var hash = new PasswordHasher<PortalUser>().HashPassword(new PortalUser(), password);
            PortalUser NewUser(string email, string name, bool signsIn)
            {
                var user = new PortalUser
                {
                    Id = Guid.CreateVersion7(opens),
                    UserName = email, NormalizedUserName = email.ToUpperInvariant(), Email = email, NormalizedEmail = email.ToUpperInvariant(),
                    FullName = name, Institution = Institutions[random.Next(Institutions.Length)], Country = "US", CreatedAt = opens,
                    SecurityStamp = Guid.NewGuid().ToString("N"), ConcurrencyStamp = Guid.NewGuid().ToString(), LockoutEnabled = true,
                    PasswordHash = signsIn ? hash : null,
                };
                user.MarkEmailConfirmed();
                db.Users.Add(user);
                db.UserRoles.Add(new IdentityUserRole<Guid> { UserId = user.Id, RoleId = researcherRole });
                return user;
            }
            for (var i = 0; i < settings.Clients; i++)
            {
                researchers.Add((NewUser($"bench.researcher{i:D2}@example.edu", $"Researcher {i:D2} Bench", true), []));
            }
            for (var i = 0; i < settings.Clients; i++)
            {
                var user = NewUser($"bench.admin{i:D2}@example.org", $"Admin {i:D2} Bench", true);
                user.TwoFactorEnabled = true;
                db.UserRoles.Add(new IdentityUserRole<Guid> { UserId = user.Id, RoleId = adminRole });
                var key = Base32(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
                db.UserTokens.Add(new IdentityUserToken<Guid> { UserId = user.Id, LoginProvider = "[AspNetUserStore]", Name = "AuthenticatorKey", Value = key });
                admins.Add((user, key));
            }
            for (var i = 0; i < Math.Max(100, settings.Proposals / 5); i++)
            {
                others.Add(NewUser($"pi{i:D5}@example.edu", $"{Vocabulary[random.Next(Vocabulary.Length)]} Person {i:D5}", false));
            }
            await db.SaveChangesAsync();
        }

        // Proposals in batches, each through the domain: draft, content, team, submit, and for some screening and review.
        var adminId = admins[0].User.Id;
        var span = (now.AddHours(-1) - opens).Ticks;
        var submitted = 0;
        var drafts = 0;
        var ownSubmittedTotal = researchers.Count * OwnSubmitted;
        var coInvestigations = researchers.SelectMany(r => Enumerable.Repeat(r, CoInvestigatorOn)).ToList();
        const int batch = 500;
        for (var first = 0; first < settings.Proposals; first += batch)
        {
            await using var db = new PortalDbContext(PortalDatabase.Options(cs));
            var proposals = new List<Proposal>(batch);
            for (var i = first; i < Math.Min(first + batch, settings.Proposals); i++)
            {
                var at = opens.AddTicks(span * i / settings.Proposals);
                // The bench researchers' own proposals are spread through the list, not bunched at its start.
                var stride = Math.Max(1, settings.Proposals / ownSubmittedTotal);
                (PortalUser User, List<Guid> Own)? mine = i % stride == 0 && i / stride < ownSubmittedTotal ? researchers[i / stride % researchers.Count] : null;
                var pi = mine?.User ?? others[random.Next(others.Count)];
                var p = Proposal.StartDraft(call, pi.Id, Title(random), at);
                p.UpdateDraft(Content(random, clusterIds), call, at.AddMinutes(30));
                foreach (var co in others.OrderBy(_ => random.Next()).Take(random.Next(0, 3)).Where(o => o.Id != pi.Id))
                {
                    p.AcceptInvitation(p.InviteCoInvestigator(co.Email!, co.Id, pi.Id, at.AddMinutes(40)).Id, co.Id, co.NormalizedEmail!, at.AddMinutes(41));
                }
                if (mine is null && coInvestigations.Count > 0 && i % 7 == 3)
                {
                    var co = coInvestigations[^1];
                    coInvestigations.RemoveAt(coInvestigations.Count - 1);
                    p.AcceptInvitation(p.InviteCoInvestigator(co.User.Email!, co.User.Id, pi.Id, at.AddMinutes(45)).Id, co.User.Id, co.User.NormalizedEmail!, at.AddMinutes(46));
                    co.Own.Add(p.Id);
                }
                p.Submit(call, pi.Id, at.AddHours(1));
                var roll = random.Next(10);
                if (roll < 5)
                {
                    p.StartScreening(adminId, at.AddHours(2));
                }
                if (roll < 2)
                {
                    p.SendToReview(adminId, at.AddHours(3), "Eligible and feasible");
                }
                mine?.Own.Add(p.Id);
                proposals.Add(p);
                submitted++;
            }
            db.Proposals.AddRange(proposals);
            await db.SaveChangesAsync();
        }
        await using (var db = new PortalDbContext(PortalDatabase.Options(cs)))
        {
            foreach (var (user, own) in researchers)
            {
                for (var d = 0; d < OwnDrafts; d++)
                {
                    var p = Proposal.StartDraft(call, user.Id, Title(random), now.AddHours(-2));
                    p.UpdateDraft(Content(random, clusterIds), call, now.AddHours(-1));
                    db.Proposals.Add(p);
                    own.Add(p.Id);
                    drafts++;
                }
            }
            await db.SaveChangesAsync();
        }
        // Statistics as a running database has them (autovacuum would analyze these tables soon after a bulk load).
        await PortalHarness.ExecuteAsync(cs, "VACUUM ANALYZE");
        return new SeedResult(submitted, drafts, researchers.Count + admins.Count + others.Count, clusterIds.Count, clusterIds,
            [.. researchers.Select(r => new SeededUser(r.User.Id, r.User.Email!, null, r.Own))],
            [.. admins.Select(a => new SeededUser(a.User.Id, a.User.Email!, a.Key, []))],
            password);
    }

    private static string Title(Random random) =>
        $"{Cap(Terms[random.Next(Terms.Length)])} {Terms[random.Next(Terms.Length)]} models for {Terms[random.Next(Terms.Length)]} at scale";

    private static ProposalContent Content(Random random, IReadOnlyList<Guid> clusterIds)
    {
        var words = new List<string>(140);
        for (var w = 0; w < 130; w++)
        {
            words.Add(random.Next(3) == 0 ? Terms[random.Next(Terms.Length)] : Filler[random.Next(Filler.Length)]);
        }
        var keywords = Enumerable.Range(0, random.Next(3, 6)).Select(_ => Terms[random.Next(Terms.Length)]).Distinct().ToList();
        var requests = clusterIds.OrderBy(_ => random.Next()).Take(random.Next(1, 4))
            .Select(c => { var h = random.Next(1, 2000) * 100m; return new RequestedHours(c, h, Math.Round(h / 2, 2)); })
            .ToList();
        return new ProposalContent(
            Title(random),
            Cap(string.Join(' ', words)) + ".",
            keywords,
            ResearchFields.All[random.Next(ResearchFields.All.Count)],
            "We run data-parallel training of models up to 7B parameters on 64 GPUs for about three weeks, then evaluate on public benchmarks; the hours follow from measured throughput.",
            false, "", false, "", "Apache-2.0 code, CC-BY-4.0 data", PlannedOutputs.Papers | PlannedOutputs.Code, "",
            requests, false, "");
    }

    private static string Cap(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static string Base32(byte[] bytes)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var text = new System.Text.StringBuilder();
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                text.Append(alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
            buffer &= (1 << bits) - 1;
        }
        if (bits > 0)
        {
            text.Append(alphabet[(buffer << (5 - bits)) & 31]);
        }
        return text.ToString();
    }
}

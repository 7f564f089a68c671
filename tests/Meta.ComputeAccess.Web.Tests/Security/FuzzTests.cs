using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace Meta.ComputeAccess.Web.Tests.Security;

/// <summary>
/// Posts hostile input to every form the actors can reach and to the cluster API: oversized fields, control
/// characters, invalid UTF-8, markup, SQL, absurd numbers and dates, missing and duplicated fields, wrong content
/// types, truncated sacct, a 100 MB body. Nothing may answer 500, and a rejected request must leave the database as
/// it was (row counts of every table, ledger sums, and the content of the main tables).
/// </summary>
public sealed partial class FuzzTests(FuzzTests.FuzzWorld world, ITestOutputHelper output) : IClassFixture<FuzzTests.FuzzWorld>
{
    public sealed class FuzzWorld : SecurityWorld
    {
        /// <summary>A researcher who has not accepted the terms of use yet.</summary>
        public const string TermsReader = "terms@matrix.example.edu";

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await using var db = NewDbContext();
            // The matrix call is closed for review; drafts live in the other, open call.
            var call = await db.Calls.SingleAsync(c => c.Slug == Values["otherSlug"]);
            var owner = await db.Users.SingleAsync(u => u.Email == "owner@matrix.example.edu");
            var draft = Proposal.StartDraft(call, owner.Id, "Fuzzed draft", Clock.GetUtcNow());
            db.Proposals.Add(draft);
            // A draft call, whose forms (remove a cluster or a criterion, open, archive) only a draft shows.
            var draftCall = Meta.ComputeAccess.Calls.Call.Create("Fuzzed draft call", "fuzz-draft-call", Clock.GetUtcNow());
            draftCall.OfferCluster(Guid.Parse(Values["clusterId"]), 1_000m, 10m, 100m);
            draftCall.AddCriterion("Merit", "Is it important?", 10m);
            db.Calls.Add(draftCall);
            await db.SaveChangesAsync();
            // The provider vouches for this address: signing in through it as "amara" leads to the linking page.
            await this.CreateUserAsync("amara.okafor@lakeside.example.edu");
            Values["draftId"] = draft.Id.ToString();
            Values["draftCallSlug"] = draftCall.Slug;
            // A screening list whose entry matches the owner, so the compliance queue has a hit to clear or block.
            var officer = await db.Users.Where(u => u.Email == ComplianceOfficer).Select(u => u.Id).SingleAsync();
            await WithScopeAsync(async sp =>
            {
                var csv = Encoding.UTF8.GetBytes("id,name,countries\nF-1,OWNER,GB\n");
                await sp.GetRequiredService<Meta.ComputeAccess.Compliance.ScreeningLists>().ImportAsync(
                    new Meta.ComputeAccess.Compliance.ScreeningListUpload("Fuzz list", Meta.ComputeAccess.Compliance.ScreeningListFormat.Auto, "fuzz.csv", csv.Length, new MemoryStream(csv)), officer, default);
                await sp.GetRequiredService<Meta.ComputeAccess.Compliance.PartyScreening>().ScreenProposalsAsync([Guid.Parse(Values["id"])], default);
            });
            // Terms of use that everyone accepted but one researcher, who is asked for them first; award terms on the open call.
            Values["otherCallId"] = call.Id.ToString();
            var admin = await db.Users.Where(u => u.Email == "admin@matrix.example.org").Select(u => u.Id).SingleAsync();
            await this.CreateUserAsync(TermsReader);
            await WithScopeAsync(async sp =>
            {
                var terms = sp.GetRequiredService<Meta.ComputeAccess.Terms.PortalTerms>();
                await terms.PublishAsync(Meta.ComputeAccess.Terms.TermsKind.TermsOfUse, null, "Use the portal only for the research you propose.", "", admin, default);
                await terms.PublishAsync(Meta.ComputeAccess.Terms.TermsKind.AwardTerms, call.Id, "Publish the outputs openly and acknowledge the program.", "", admin, default);
                var current = (await terms.CurrentAsync(Meta.ComputeAccess.Terms.TermsKind.TermsOfUse, null, default))!.Id;
                await using var users = NewDbContext();
                foreach (var user in await users.Users.Where(u => u.Email != TermsReader).Select(u => u.Id).ToListAsync())
                {
                    await terms.AcceptTermsOfUseAsync(user, current, default);
                }
            });
            // A second browser of the owner's, so the security page has a session to end.
            using var secondBrowser = new PortalClient(this);
            await secondBrowser.SignInAsync("owner@matrix.example.edu");
        }
    }

    private static readonly string[] HostileValues =
    [
        "",
        new('x', 100_000),
        "\u0000\u0001\u0008\u001b[31mcontrol",
        "<script>alert(1)</script><img src=x onerror=alert(2)>",
        "'; DROP TABLE users; --",
        "-1",
        "0",
        "99999999999999999999999999999",
        "0.0000001",
        "1e309",
        "NaN",
        "0001-01-01T00:00",
        "9999-12-31T23:59",
        "../../etc/passwd",
        "00000000-0000-0000-0000-000000000000",
    ];

    /// <summary>Tables whose content (not only their row count) must not change when a request is rejected.</summary>
    private static readonly string[] HashedTables =
        ["proposals", "proposal_cluster_requests", "proposal_members", "calls", "call_clusters", "rubric_criteria", "clusters", "allocations", "allocation_quotas", "cluster_capacities", "allocation_periods",
         "charge_policies", "transfer_requests", "allocation_tranches", "allocation_advances",
         "allocation_members", "cluster_logins", "review_responses", "decision_appeals"];

    /// <summary>Tables that legitimately change on a refused request (failed sign-ins are recorded per account and counted per typed address).</summary>
    private static readonly string[] Unhashed = ["users", "sign_in_events", "rate_limit_windows", "__ef_migrations_history"];

    /// <summary>Who posts: nobody, a researcher, an admin, a compliance officer, a safety reviewer, a researcher yet to accept the terms of use, and people in the middle of a sign-in through the provider.</summary>
    public static TheoryData<string> Actors => new() { "anonymous", "owner@matrix.example.edu", "admin@matrix.example.org", "provider:sam", "provider:amara", SecurityWorld.ComplianceOfficer, SecurityWorld.SafetyReviewer, FuzzWorld.TermsReader };

    private IReadOnlyList<string> PagesFor(string actor) => actor switch
    {
        "anonymous" => ["/Account/Login", "/Account/Register", "/Account/ForgotPassword", "/Account/ResendConfirmation"],
        "provider:sam" => ["/Account/ExternalSignup"],
        "provider:amara" => ["/Account/LinkLogin"],
        "owner@matrix.example.edu" =>
        [
            "/Account/Profile", "/Account/Security", "/Account/Close", $"/Proposals/Create?call={world.Values["otherSlug"]}", $"/Proposals/Edit/{world.Values["draftId"]}",
            $"/Proposals/Team/{world.Values["draftId"]}", $"/Proposals/Attachments/{world.Values["draftId"]}", $"/Proposals/Details/{world.Values["id"]}",
            $"/Allocations/{world.Values["allocationId"]}/Supplement", $"/Allocations/{world.Values["allocationId"]}/Transfer", "/Account/Notifications/Preferences",
            $"/Allocations/{world.Values["allocationId"]}/Report/{world.Values["reportId"]}",
            "/Account/Logins", $"/Allocations/{world.Values["allocationId"]}", "/Allocations/Invitations",
            $"/Proposals/Response/{world.Values["replyId"]}", $"/Proposals/Appeal/{world.Values["appealId"]}",
        ],
        SecurityWorld.ComplianceOfficer => ["/Compliance", "/Compliance/Lists", "/Compliance/Countries"],
        SecurityWorld.SafetyReviewer => [$"/Safety/Review/{world.Values["safetyId"]}"],
        FuzzWorld.TermsReader => ["/Account/Terms"],
        _ =>
        [
            "/Admin/Calls/Create", $"/Admin/Calls/Edit/{world.Values["slug"]}", $"/Admin/Calls/Edit/{world.Values["draftCallSlug"]}",
            $"/Admin/Calls/Details/{world.Values["draftCallSlug"]}", "/Admin/Clusters/Edit", $"/Admin/Clusters/Edit/{world.Values["clusterSlug"]}",
            $"/Admin/Users/Edit?id={world.Values["ownerId"]}", "/Admin/Allocations/Create", $"/Admin/Allocations/Details?id={world.Values["allocationId"]}",
            $"/Admin/Capacity/Edit?cluster={world.Values["clusterId"]}&period={world.Values["periodId"]}", "/Admin/Tokens", "/Admin/Usage/Unmatched",
            $"/Admin/Clusters/Rates/{world.Values["clusterSlug"]}", "/Admin/Allocations/Advances",
            $"/Admin/Clusters/Logins/{world.Values["clusterSlug"]}",
            $"/Admin/Calls/{world.Values["otherSlug"]}/Ranking", $"/Admin/Appeals/Decide/{world.Values["appealedId"]}",
            // A call's award terms; the terms of use are the same form, but a new version of them would send every actor after this one to the terms page first.
            $"/Admin/Terms?callId={world.Values["otherCallId"]}",
        ],
    };

    [Theory]
    [MemberData(nameof(Actors))]
    public async Task Hostile_form_posts_never_answer_500_and_rejected_ones_change_nothing(string actor)
    {
        using var client = new PortalClient(world);
        if (actor.StartsWith("provider:", StringComparison.Ordinal))
        {
            await client.SignInThroughProviderAsync(world, actor["provider:".Length..]);
        }
        else if (actor != "anonymous")
        {
            await client.SignInAsync(actor);
        }
        var failures = new List<string>();
        var requests = 0;
        var last = "(none)";
        foreach (var page in PagesFor(actor))
        {
            string html;
            try
            {
                html = await client.GetPageAsync(page);
            }
            catch (HttpRequestException ex)
            {
                throw new InvalidOperationException($"{ex.Message} after the post {last}", ex);
            }
            foreach (var form in Forms(html, page))
            {
                if (form.Action.Contains("Logout", StringComparison.Ordinal) || form.Action.Contains("SignOutEverywhere", StringComparison.Ordinal))
                {
                    continue;
                }
                foreach (var body in Variants(form))
                {
                    requests++;
                    last = $"{form.Action} with {Describe(body)}";
                    var before = await SnapshotAsync();
                    using var content = new StringContent(body, Encoding.Latin1, "application/x-www-form-urlencoded");
                    using var response = await client.Http.PostAsync(new Uri(form.Action, UriKind.Relative), content);
                    var status = (int)response.StatusCode;
                    var rejected = status >= 400 || status == 200;
                    if (status >= 500)
                    {
                        failures.Add($"{status} from {form.Action} with {Describe(body)}");
                    }
                    else if (rejected && await SnapshotAsync() is var after && after != before)
                    {
                        failures.Add($"{status} from {form.Action} changed the database: {Diff(before, after)} with {Describe(body)}");
                    }
                }
            }
        }
        output.WriteLine($"{requests} hostile posts as {actor}");
        Assert.True(requests > 0, "No forms were found to fuzz.");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(30)));
    }

    /// <summary>Pages that read filters from the query string (GET forms, exports, feeds), with who opens them.</summary>
    private static readonly (string Actor, string Path, string[] Keys)[] QueryPages =
    [
        ("admin@matrix.example.org", "/Admin/Reports", ["call", "from", "to"]),
        ("admin@matrix.example.org", "/Admin/Reports?handler=Csv", ["table", "call", "from", "to"]),
        ("admin@matrix.example.org", "/Admin/Allocations/Reports", ["show"]),
        ("admin@matrix.example.org", "/Admin/Terms", ["callId"]),
        (SecurityWorld.SafetyReviewer, "/Safety", ["all"]),
        (FuzzWorld.TermsReader, "/Account/Terms", ["returnUrl"]),
        ("anonymous", "/Awards", ["call", "field", "cluster"]),
        ("anonymous", "/Awards?handler=Csv", ["call", "field", "cluster"]),
        ("anonymous", "/Awards?handler=Json", ["call", "field", "cluster"]),
        ("anonymous", "/Awards?handler=Feed", ["call", "field", "cluster"]),
    ];

    private static readonly string[] HostileQueryValues =
    [
        "", " ", "x", "-1", "0", "99999999999999999999", "2027-02-30", "0001-01-01", "9999-12-31", "00000000-0000-0000-0000-000000000000",
        "'; DROP TABLE proposals; --", "<script>alert(1)</script>", "%00", "\u0000", new string('a', 5000), "1e308", "NaN", "../../etc/passwd",
    ];

    [Fact]
    public async Task Hostile_query_strings_never_answer_500_and_change_nothing()
    {
        var failures = new List<string>();
        var requests = 0;
        var clients = new Dictionary<string, PortalClient>(StringComparer.Ordinal);
        foreach (var actor in QueryPages.Select(p => p.Actor).Distinct())
        {
            clients[actor] = new PortalClient(world);
            if (actor != "anonymous")
            {
                await clients[actor].SignInAsync(actor);
            }
        }
        // After signing in: a sign-in is recorded, a GET of these pages changes nothing.
        var before = await SnapshotAsync();
        foreach (var (actor, path, keys) in QueryPages)
        {
            foreach (var key in keys)
            {
                foreach (var value in HostileQueryValues)
                {
                    var url = path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + key + "=" + Uri.EscapeDataString(value);
                    requests++;
                    using var response = await clients[actor].GetAsync(url);
                    if ((int)response.StatusCode >= 500)
                    {
                        failures.Add($"{(int)response.StatusCode} from {url[..Math.Min(200, url.Length)]}");
                    }
                }
            }
        }
        foreach (var client in clients.Values)
        {
            client.Dispose();
        }
        output.WriteLine($"{requests} hostile query strings");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(30)));
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task Hostile_list_files_are_refused_with_a_reason_and_import_nothing()
    {
        using var client = new PortalClient(world);
        await client.SignInAsync(SecurityWorld.ComplianceOfficer);
        var files = new (string Name, byte[] Bytes, string Reason, string? NameColumn)[]
        {
            ("empty", [], "Choose the list's CSV file", null),
            ("header only", Encoding.UTF8.GetBytes("id,name\n"), "no entries", null),
            ("no name column", Encoding.UTF8.GetBytes("id,title\n1,A\n"), "names no name column", null),
            ("mapped column missing", Encoding.UTF8.GetBytes("id,name\n1,A\n"), "no column 'party'", "party"),
            ("unclosed quote after a good line", Encoding.UTF8.GetBytes("id,name\n1,Good Name\n2,\"open\n"), "nothing was imported: line 3", null),
            ("short line", Encoding.UTF8.GetBytes("id,name,country\n1,Good Name,GB\n2,Bad\n"), "line 3: 2 fields where the header has 3", null),
            ("latin-1", Encoding.Latin1.GetBytes("id,name\n1,Jos\u00e9 M\u00fcller\n"), "not UTF-8 text: line 2", null),
            ("utf-16", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("id,name\n1,A\n")], "UTF-16", null),
            ("binary garbage", RandomBytes(4096), "UTF-", null),
            ("control characters", Encoding.UTF8.GetBytes("id,name\n1,A\u0000B\n"), "a control character", null),
            ("larger than an import takes", RandomBytes((int)new Meta.ComputeAccess.Compliance.ComplianceOptions().MaxImportBytes + 1), "larger than an import takes", null),
        };
        var before = await SnapshotAsync();
        foreach (var (name, bytes, reason, nameColumn) in files)
        {
            var token = PortalClient.AntiforgeryToken(await client.GetPageAsync("/Compliance/Lists"))!;
            using var form = new MultipartFormDataContent
            {
                { new StringContent(token), "__RequestVerificationToken" },
                { new StringContent("Hostile list"), "Input.ListName" },
                { new StringContent("Auto"), "Input.Format" },
                { new StringContent(nameColumn ?? ""), "Input.NameColumn" },
                { new ByteArrayContent(bytes), "file", "hostile.csv" },
            };
            using var response = await client.Http.PostAsync(new Uri("/Compliance/Lists?handler=Import", UriKind.Relative), form);
            var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
            output.WriteLine($"{name}: {(int)response.StatusCode}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}: expected the form again, got {(int)response.StatusCode}");
            Assert.True(html.Contains(reason, StringComparison.Ordinal), $"{name}: the page does not say \"{reason}\"");
        }
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task Hostile_answers_at_the_provider_callbacks_are_refused_without_an_error_and_change_nothing()
    {
        using var client = new PortalClient(world);
        var before = await SnapshotAsync();
        string[] queries =
        [
            "", "?code=x", "?code=x&state=y", "?state=" + new string('A', 20_000), "?error=access_denied", "?error=access_denied&state=forged",
            "?error=server_error&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=x", "?code=%00%01%C3%28&state=%FF%FE",
            "?iss=https%3A%2F%2Fimpostor.example.org%2F&code=a&state=b", "?code=a&code=b&state=c&state=d",
        ];
        var failures = new List<string>();
        foreach (var path in new[] { "/signin-demo", "/signin-orcid" })
        {
            foreach (var query in queries)
            {
                using var get = await client.GetAsync(path + query);
                using var body = new StringContent(query.TrimStart('?'), Encoding.Latin1, "application/x-www-form-urlencoded");
                using var post = await client.Http.PostAsync(new Uri(path, UriKind.Relative), body);
                failures.AddRange(new[] { ("GET", get), ("POST", post) }.Where(r => (int)r.Item2.StatusCode >= 500).Select(r => $"{r.Item1} {path}{query}: {(int)r.Item2.StatusCode}"));
            }
        }
        foreach (var failed in new[] { "provider=%3Cscript%3E&reason=Refused", "provider=demo&reason=99999", "reason=%00", "provider=" + new string('x', 10_000) })
        {
            using var page = await client.GetAsync("/Account/ExternalLogin?handler=Failed&" + failed);
            if ((int)page.StatusCode >= 500)
            {
                failures.Add($"failure page with {failed[..Math.Min(60, failed.Length)]}: {(int)page.StatusCode}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task Hostile_usage_bodies_get_a_4xx_with_a_reason_and_charge_nothing()
    {
        // A token of its own: the form fuzzing may legitimately revoke the shared ones from the admin token page.
        var secret = await world.WithScopeAsync(async sp =>
            (await sp.GetRequiredService<Meta.ComputeAccess.Clusters.ClusterTokens>().CreateAsync(world.Values["clusterSlug"], "fuzz", null)).Secret);
        using var client = world.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        var header = "JobID|Account|User|Start|End|ElapsedRaw|AllocTRES|State\n";
        // The cluster agent's columns: Submit names a job with its id.
        var agentHeader = "JobID|Account|User|Submit|Start|End|ElapsedRaw|AllocTRES|State|Partition\n";
        var goodLine = "9101|matrix-acct|alice|2026-01-01T09:00:00|2026-01-01T10:00:00|2026-01-01T11:00:00|3600|gres/gpu=2|COMPLETED|h100\n";
        // Lines that cannot have run as reported: each would charge hours nobody used.
        var implausible = agentHeader +
            "9201|matrix-acct|a|2026-01-01T09:00:00|2026-01-01T10:00:00|2026-01-01T10:00:01|31536000|gres/gpu=8|COMPLETED|h100\n" +
            "9202|matrix-acct|a|2099-01-01T09:00:00|2099-01-01T10:00:00|2099-01-01T11:00:00|3600|gres/gpu=1|COMPLETED|h100\n" +
            "9203|matrix-acct|a|2026-01-01T09:00:00|2026-01-01T11:00:00|2026-01-01T10:00:00|0|gres/gpu=1|COMPLETED|h100\n" +
            "9204|matrix-acct|a|2026-01-01T09:00:00|2026-01-01T10:00:00|2026-01-01T11:00:00|3600|gres/gpu=2147483647|COMPLETED|h100\n" +
            "9205|matrix-acct|a|'; DROP TABLE usage_records; --|2026-01-01T10:00:00|2026-01-01T11:00:00|3600|gres/gpu=1|COMPLETED|h100\n" +
            "9206|matrix-acct|a|0001-01-01T00:00:00-14:00|2026-01-01T10:00:00|2026-01-01T11:00:00|3600|gres/gpu=1|COMPLETED|h100\n" +
            "9207|matrix-acct|a|9999-12-31T23:59:59+14:00|2026-01-01T10:00:00|2026-01-01T11:00:00|3600|gres/gpu=1|COMPLETED|h100\n" +
            "9208|matrix-acct|a|2026-01-01T09:00:00|None|2026-01-01T11:00:00|9223372036854775807|gres/gpu=1|COMPLETED|h100\n" +
            "9209|matrix-acct|a|2026-01-01T09:00:00|2026-01-01T10:00:00|0001-01-01T00:00:00+14:00|3600|gres/gpu=1|COMPLETED|h100\n";
        var bodies = new (string Name, HttpContent Content)[]
        {
            ("empty", new StringContent("", Encoding.UTF8, "text/plain")),
            ("no header", new StringContent("1|matrix-acct|a|2026-01-01T00:00:00|2026-01-01T01:00:00|3600|gres/gpu=1|COMPLETED\n", Encoding.UTF8, "text/plain")),
            ("json as text", new StringContent("{\"JobID\":\"1\"}", Encoding.UTF8, "application/json")),
            ("wrong content type", new StringContent(header, Encoding.UTF8, "image/png")),
            ("invalid utf-8", new ByteArrayContent([.. Encoding.ASCII.GetBytes(header), 0xC3, 0x28, 0xFF, 0xFE, (byte)'\n'])),
            ("invalid utf-8 after a good line", new ByteArrayContent([.. Encoding.ASCII.GetBytes(agentHeader + goodLine), 0xED, 0xA0, 0x80, (byte)'\n'])),
            ("utf-16 with a byte order mark", new ByteArrayContent([.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(agentHeader + goodLine)])),
            ("only implausible lines", new StringContent(implausible, Encoding.UTF8, "text/plain")),
            ("implausible json lines", new StringContent(
                "{\"JobID\":\"9301\",\"Submit\":{\"x\":1},\"Account\":\"matrix-acct\",\"User\":\"a\",\"Start\":\"2026-01-01T10:00:00\",\"End\":\"2026-01-01T11:00:00\",\"ElapsedRaw\":3600,\"AllocTRES\":\"gres/gpu=1\",\"State\":\"COMPLETED\"}\n" +
                "{\"JobID\":\"9302\",\"Submit\":null,\"Account\":\"matrix-acct\",\"User\":\"a\",\"Start\":\"2026-01-01T10:00:00\",\"End\":\"2026-01-01T10:00:01\",\"ElapsedRaw\":1e30,\"AllocTRES\":\"gres/gpu=1\",\"State\":\"COMPLETED\"}\n",
                Encoding.UTF8, "application/x-ndjson")),
            ("binary garbage", new ByteArrayContent(RandomBytes(4096))),
            ("100 MB of garbage", new ByteArrayContent(RandomBytes(100 * 1024 * 1024))),
        };
        foreach (var (_, content) in bodies.Where(b => b.Content.Headers.ContentType is null))
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/plain");
        }
        var before = await SnapshotAsync();
        foreach (var (name, content) in bodies)
        {
            using (content)
            using (var response = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), content))
            {
                var status = (int)response.StatusCode;
                var text = await response.Content.ReadAsStringAsync();
                output.WriteLine($"{name}: {status} {text[..Math.Min(200, text.Length)]}");
                Assert.True(status is >= 400 and < 500, $"{name}: expected a 4xx, got {status}");
                Assert.False(string.IsNullOrWhiteSpace(text), $"{name}: a refusal must say why");
            }
        }
        Assert.Equal(before, await SnapshotAsync());

        // Truncated and hostile lines: the good line is taken, the rest rejected with line numbers, nothing else charged.
        var mixed = header +
            "9001|matrix-acct|alice|2026-01-01T10:00:00|2026-01-01T11:00:00|3600|gres/gpu=2|COMPLETED\n" +
            "9002|matrix-acct|bob|2026-01-01T10:00:00|2026-01-01T11:00:00|-5|gres/gpu=2|COMPLETED\n" +
            "9003|matrix-acct|'; DROP TABLE ledger_entries; --|2026-01-01T10:00:00|2026-01-01T11:00:00|99999999999999999999|gres/gpu=2|COMPLETED\n" +
            "9004|matrix-acct|carol|2026-01-01T10:00";
        using var partial = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), new StringContent(mixed, Encoding.UTF8, "text/plain"));
        var answer = await partial.Content.ReadAsStringAsync();
        output.WriteLine(answer);
        Assert.Equal(HttpStatusCode.OK, partial.StatusCode);
        Assert.Contains("\"line\":3", answer.Replace(" ", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        await using (var db = world.NewDbContext())
        {
            Assert.Equal(1, await db.UsageRecords.CountAsync(u => u.JobId.StartsWith("900")));
        }

        // The agent's format: the good line is taken once (sent twice), every implausible one rejected with its line.
        using var agent = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative),
            new StringContent(implausible + goodLine + goodLine, Encoding.UTF8, "text/plain"));
        var agentAnswer = await agent.Content.ReadAsStringAsync();
        output.WriteLine(agentAnswer);
        Assert.Equal(HttpStatusCode.OK, agent.StatusCode);
        using var json = System.Text.Json.JsonDocument.Parse(agentAnswer);
        Assert.Equal(Enumerable.Range(2, 9), json.RootElement.GetProperty("rejections").EnumerateArray().Select(r => r.GetProperty("line").GetInt32()));
        Assert.Equal(1, json.RootElement.GetProperty("duplicate").GetInt32());
        await using var check = world.NewDbContext();
        Assert.Equal(["9101"], await check.UsageRecords.Where(u => u.JobId.StartsWith("91") || u.JobId.StartsWith("92")).Select(u => u.JobId).ToListAsync());
    }

    [Fact]
    public async Task Hostile_sync_reports_and_plan_requests_get_a_4xx_or_a_plan_and_store_nothing()
    {
        var secret = await world.WithScopeAsync(async sp =>
            (await sp.GetRequiredService<Meta.ComputeAccess.Clusters.ClusterTokens>().CreateAsync(world.Values["clusterSlug"], "fuzz sync", null)).Secret);
        using var client = world.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        var uri = new Uri($"/api/v1/clusters/{world.Values["clusterSlug"]}/sync-reports", UriKind.Relative);
        const string Head = """{ "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:01Z", "dryRun": false, "accounts": """;
        string Entry(string field, string value) => Head + "[ { \"account\": \"matrix-acct\", \"outcome\": \"applied\", \"inSlurm\": true, " + $"\"{field}\": {value}" + " } ] }";
        var bodies = new List<(string Name, HttpContent Content)>
        {
            ("empty", new ByteArrayContent([])),
            ("binary garbage", new ByteArrayContent(RandomBytes(4096))),
            ("70 MB of garbage", new ByteArrayContent(RandomBytes(70 * 1024 * 1024))),
            ("nested 5,000 deep", new StringContent(new string('[', 5000) + new string(']', 5000))),
            ("100,001 accounts", new StringContent(Head + "[" + string.Join(',', Enumerable.Repeat("{}", 100_001)) + "] }")),
            ("a number for a list", new StringContent(Head + "1e309 }")),
            ("sql in a name", new StringContent(Entry("error", "\"'; DROP TABLE cluster_sync_reports; --\"").Replace("\"applied\"", "\"exploded\"", StringComparison.Ordinal))),
            ("huge limit", new StringContent(Entry("limitApplied", "99999999999999999999999"))),
            ("fractional minutes", new StringContent(Entry("usageInSlurmTresMinutes", "1.5"))),
            ("object for a login", new StringContent(Entry("membersAdded", "[{\"login\":\"x\"}]"))),
            ("100,000-character error", new StringContent(Entry("error", "\"" + new string('e', 100_000) + "\""))),
            ("escape sequences", new StringContent(Entry("error", "\"\\u001b[31m\\u0000\""))),
            ("duplicated keys of the wrong type", new StringContent(Head + "[], \"dryRun\": \"yes\" }")),
        };
        foreach (var (_, content) in bodies)
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }
        var before = await SnapshotAsync();
        foreach (var (name, content) in bodies)
        {
            using (content)
            using (var response = await client.PostAsync(uri, content))
            {
                var status = (int)response.StatusCode;
                var text = await response.Content.ReadAsStringAsync();
                output.WriteLine($"{name}: {status} {text[..Math.Min(200, text.Length)]}");
                Assert.True(status is >= 400 and < 500, $"{name}: expected a 4xx, got {status}");
                Assert.False(string.IsNullOrWhiteSpace(text), $"{name}: a refusal must say why");
            }
        }
        // Hostile plan requests: odd If-None-Match values and query strings still get the plan (or a 304), never a 5xx.
        foreach (var ifNoneMatch in new[] { "", "*", "W/", "\"", new string('"', 10_000), "\"a\", W/\"b\", , ," })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/v1/clusters/{world.Values["clusterSlug"]}/associations?format=../../etc&x=%00", UriKind.Relative));
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
            using var response = await client.SendAsync(request);
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotModified, $"If-None-Match {ifNoneMatch[..Math.Min(20, ifNoneMatch.Length)]}: {(int)response.StatusCode}");
        }
        // Serving the plan records its tag (cluster_plan_versions); nothing else changed.
        Assert.Equal(Without(before, "cluster_plan_versions"), Without(await SnapshotAsync(), "cluster_plan_versions"));
    }

    private static string Without(string snapshot, string table) =>
        string.Join('\n', snapshot.Split('\n').Where(line => !line.StartsWith(table + ":", StringComparison.Ordinal)));

    private sealed record Form(string Action, List<KeyValuePair<string, string>> Fields);

    private static IEnumerable<Form> Forms(string html, string page)
    {
        foreach (Match form in FormPattern().Matches(html))
        {
            if (!form.Groups["attrs"].Value.Contains("method=\"post\"", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var action = WebUtility.HtmlDecode(ActionPattern().Match(form.Groups["attrs"].Value) is { Success: true } a ? a.Groups[1].Value : page);
            var fields = new List<KeyValuePair<string, string>>();
            foreach (Match field in FieldPattern().Matches(form.Groups["body"].Value))
            {
                var tag = field.Value;
                var name = WebUtility.HtmlDecode(NamePattern().Match(tag).Groups[1].Value);
                var value = ValuePattern().Match(tag) is { Success: true } v ? WebUtility.HtmlDecode(v.Groups[1].Value) : "";
                if (name.Length > 0)
                {
                    fields.Add(new(name, value));
                }
            }
            // Buttons with their own handler post to a different action.
            foreach (Match button in FormActionPattern().Matches(form.Groups["body"].Value))
            {
                yield return new Form(WebUtility.HtmlDecode(button.Groups[1].Value), fields);
            }
            yield return new Form(action, fields);
        }
    }

    private static IEnumerable<string> Variants(Form form)
    {
        var token = form.Fields.FirstOrDefault(f => f.Key == "__RequestVerificationToken").Value ?? "";
        var editable = form.Fields.Where(f => f.Key != "__RequestVerificationToken").ToList();
        static string Pair(string k, string v) => Uri.EscapeDataString(k) + "=" + Uri.EscapeDataString(v);
        string Token() => Pair("__RequestVerificationToken", token);
        foreach (var hostile in HostileValues)
        {
            // Every visible field hostile; hidden ids kept so the request reaches the handler's logic.
            yield return string.Join("&", editable.Select(f => Pair(f.Key, IsId(f) ? f.Value : hostile)).Append(Token()));
        }
        // Hidden ids hostile too.
        yield return string.Join("&", editable.Select(f => Pair(f.Key, "not-a-guid")).Append(Token()));
        // Missing every field.
        yield return Token();
        // Each field twice, with different values.
        yield return string.Join("&", editable.SelectMany(f => new[] { Pair(f.Key, f.Value), Pair(f.Key, "second") }).Append(Token()));
        // Invalid UTF-8 (raw bytes percent-encoded).
        yield return string.Join("&", editable.Select(f => Uri.EscapeDataString(f.Key) + "=%C3%28%FF%FE" + (IsId(f) ? "" : "x")).Append(Token()));
    }

    private static bool IsId(KeyValuePair<string, string> field) =>
        Guid.TryParse(field.Value, out _) || field.Key.EndsWith("Version", StringComparison.Ordinal) || field.Key is "role";

    private static string Describe(string body) => body.Length > 160 ? body[..160] + $"… ({body.Length} chars)" : body;

    private async Task<string> SnapshotAsync()
    {
        await using var connection = new NpgsqlConnection(world.ConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }
        var parts = tables.Select(t => Unhashed.Contains(t) && t != "users"
            ? $"SELECT '{t}:-'"
            : HashedTables.Contains(t)
                ? $"SELECT '{t}:' || count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM \"{t}\" x"
                : $"SELECT '{t}:' || count(*) FROM \"{t}\"");
        var sql = string.Join(" UNION ALL ", parts) +
            " UNION ALL SELECT 'ledger:' || coalesce(sum(hours), 0) FROM ledger_entries";
        var snapshot = new StringBuilder();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var rows = await command.ExecuteReaderAsync();
        while (await rows.ReadAsync())
        {
            snapshot.Append(rows.GetString(0)).Append('\n');
        }
        return snapshot.ToString();
    }

    private static string Diff(string before, string after) =>
        string.Join("; ", after.Split('\n').Except(before.Split('\n')));

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(42).NextBytes(bytes);
        return bytes;
    }

    [GeneratedRegex(@"<form(?<attrs>[^>]*)>(?<body>.*?)</form>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex FormPattern();

    [GeneratedRegex("action=\"([^\"]*)\"")]
    private static partial Regex ActionPattern();

    [GeneratedRegex("formaction=\"([^\"]*)\"")]
    private static partial Regex FormActionPattern();

    [GeneratedRegex(@"<(input|select|textarea)\b[^>]*\bname=""[^""]+""[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex FieldPattern();

    [GeneratedRegex("\\bname=\"([^\"]+)\"")]
    private static partial Regex NamePattern();

    [GeneratedRegex("\\bvalue=\"([^\"]*)\"")]
    private static partial Regex ValuePattern();
}

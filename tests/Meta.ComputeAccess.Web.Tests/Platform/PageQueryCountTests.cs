using System.Net;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Usage;
using Meta.ComputeAccess.Web.Tests.Dashboard;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Platform;

/// <summary>
/// The SQL commands one request of each main page sends (every command of every DbContext while the request runs,
/// sign-in checks included): at most a small fixed number, and the same number after the data behind the page has
/// grown. A query per row (an N+1) fails this whatever the machine's speed.
/// </summary>
public sealed partial class PageQueryCountTests(PageQueryCountTests.World world) : IClassFixture<PageQueryCountTests.World>
{
    /// <summary>The most commands a request of each page may send (docs/performance.md, "Round trips per page").</summary>
    private static readonly Dictionary<string, int> Bounds = new(StringComparer.Ordinal)
    {
        // Each includes the one query that checks the session, the terms of use to accept and the bell's unread count
        // (every signed-in request).
        ["dashboard, researcher"] = 4,
        ["dashboard, reviewer"] = 7,
        ["dashboard, admin"] = 4,
        ["proposal page, team"] = 2,
        ["proposal page, admin"] = 5,
        ["admin list, first page"] = 5,
        ["admin list, next page"] = 4,
        ["allocation page"] = 24,
    };

    public sealed class World : CommandCountingPortalFactory
    {
        public const string CallSlug = "counted-call";

        public PortalUser Admin { get; private set; } = null!;

        public PortalUser Pi { get; private set; } = null!;

        public PortalUser Reviewer { get; private set; } = null!;

        public Call Call { get; private set; } = null!;

        public Cluster Cluster { get; private set; } = null!;

        public AllocationPeriod Period { get; private set; } = null!;

        public Guid FirstAllocation { get; private set; }

        /// <summary>The proposal each round made with a team the size of the round.</summary>
        public List<Guid> TeamProposals { get; } = [];

        private readonly List<PortalUser> colleagues = [];

        private int jobs;

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            var now = Clock.GetUtcNow();
            var today = DateOnly.FromDateTime(now.UtcDateTime);
            Admin = await this.CreateUserAsync("admin@counted.example.org", [Roles.Admin, Roles.Researcher], "Program");
            Pi = await this.CreateUserAsync("pi@counted.example.edu");
            Reviewer = await this.CreateUserAsync("reviewer@counted.example.org", [Roles.Reviewer, Roles.Researcher], "Reviewer Institute");
            for (var i = 0; i < 6; i++)
            {
                colleagues.Add(await this.CreateUserAsync($"colleague{i}@counted.example.edu"));
            }
            (Call, Cluster) = DashboardWorld.NewCall(CallSlug, now);
            Period = AllocationPeriod.Create("Counted period", today.AddDays(-40), today.AddDays(200), now);
            await using var db = NewDbContext();
            db.Clusters.Add(Cluster);
            db.Calls.Add(Call);
            db.AllocationPeriods.Add(Period);
            db.ClusterCapacities.Add(ClusterCapacity.Create(Cluster.Id, Period.Id, 10_000_000m, 1m, 0m, now));
            db.ReviewerPool.Add(ReviewerPoolMember.Create(Call.Id, Reviewer.Id, 60, now));
            await db.SaveChangesAsync();
        }

        /// <summary>
        /// One more of everything the main pages list: the PI's proposals in each step (one with a team of
        /// <paramref name="round"/> co-investigators), proposals assigned to the reviewer, a conflict, 60 other
        /// proposals in the admin list, an allocation, and jobs charged to the first allocation.
        /// </summary>
        public async Task GrowAsync(int round)
        {
            var now = Clock.GetUtcNow();
            var today = DateOnly.FromDateTime(now.UtcDateTime);
            await using (var db = NewDbContext())
            {
                var call = await db.Calls.SingleAsync(c => c.Id == Call.Id);
                var w = new DashboardWorld(db, call, Cluster.Id, Pi.Id, Admin.Id, now);
                var team = w.Draft($"Round {round}: a proposal with a team");
                foreach (var co in colleagues.Take(round * 2))
                {
                    team.AcceptInvitation(team.InviteCoInvestigator(co.Email!, co.Id, Pi.Id, now).Id, co.Id, co.NormalizedEmail!, now);
                }
                team.Submit(call, Pi.Id, now);
                TeamProposals.Add(team.Id);
                w.Draft($"Round {round}: a draft").InviteCoInvestigator($"invited{round}@counted.example.edu", null, Pi.Id, now);
                w.Screening($"Round {round}: being screened");
                w.InReview($"Round {round}: in review", Reviewer.Id);
                w.InReview($"Round {round}: in review too", Reviewer.Id);
                w.Decided($"Round {round}: awarded", ProposalDecision.Awarded, released: true);
                w.Decided($"Round {round}: declined, not released", ProposalDecision.Declined, released: false);
                w.Conflict(w.Submitted($"Round {round}: conflicted", colleagues[0].Id), Reviewer.Id);
                for (var i = 0; i < 60; i++)
                {
                    w.Submitted($"Round {round}: someone else's proposal {i:D2}", colleagues[i % colleagues.Count].Id);
                }
                await db.SaveChangesAsync();
            }
            var allocation = await WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CreateAsync(
                new NewAllocation(Period.Id, Pi.Id, $"Round {round}: running project", today.AddDays(-20), today.AddDays(40),
                    new Dictionary<Guid, decimal> { [Cluster.Id] = 12_000m }, SlurmAccount: $"counted-{round}"), Admin.Id));
            if (FirstAllocation == Guid.Empty)
            {
                FirstAllocation = allocation.Id;
            }
            var account = await WithScopeAsync(async sp => await sp.GetRequiredService<PortalDbContext>().Allocations
                .Where(a => a.Id == FirstAllocation).Select(a => a.SlurmAccount).SingleAsync());
            var day = now.UtcDateTime.Date.AddDays(-3);
            var sacct = "JobID|Account|User|Start|End|ElapsedRaw|AllocTRES|State\n" + string.Concat(Enumerable.Range(0, 10 * round).Select(i =>
            {
                var start = day.AddMinutes(jobs * 7 % 1440);
                jobs++;
                return $"{880000 + jobs}|{account}|pi|{start:yyyy-MM-ddTHH:mm:ss}|{start.AddHours(1):yyyy-MM-ddTHH:mm:ss}|3600|gres/gpu=1|COMPLETED\n";
            }));
            await WithScopeAsync(sp => sp.GetRequiredService<UsageIngest>().IngestAsync(Cluster.Id, SacctParser.Parse(new StringReader(sacct), UsageBodyFormat.SacctParsable2)));
        }
    }

    [Fact]
    public async Task Each_main_page_sends_a_few_sql_commands_however_many_rows_it_shows()
    {
        using var researcher = new PortalClient(world);
        await researcher.SignInAsync(world.Pi.Email!);
        using var reviewer = new PortalClient(world);
        await reviewer.SignInAsync(world.Reviewer.Email!);
        using var admin = new PortalClient(world);
        await admin.SignInAsync(world.Admin.Email!);

        await world.GrowAsync(1);
        var small = await CountAllAsync(researcher, reviewer, admin, world.TeamProposals[0]);
        await world.GrowAsync(2);
        await world.GrowAsync(3);
        var large = await CountAllAsync(researcher, reviewer, admin, world.TeamProposals[2]);

        var report = string.Join("; ", large.Select(p => $"{p.Key}: {small[p.Key]} then {p.Value} (bound {Bounds[p.Key]})"))
            + "\n" + string.Join("\n", sent.Where(p => large[p.Key] != small[p.Key] || large[p.Key] > Bounds[p.Key])
                .Select(p => $"--- {p.Key}:\n" + string.Join(";\n", p.Value)));
        Assert.All(large, p =>
        {
            Assert.True(p.Value == small[p.Key], $"{p.Key} sent more commands with more rows: {report}");
            Assert.True(p.Value <= Bounds[p.Key], $"{p.Key} sent more commands than its bound: {report}");
        });
    }

    /// <summary>The SQL each page sent in the last count, for the failure message.</summary>
    private readonly Dictionary<string, IReadOnlyList<string>> sent = new(StringComparer.Ordinal);

    private async Task<Dictionary<string, int>> CountAllAsync(PortalClient researcher, PortalClient reviewer, PortalClient admin, Guid teamProposal)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            ["dashboard, researcher"] = await CountAsync("dashboard, researcher", researcher, "/", "Round 1: a draft"),
            ["dashboard, reviewer"] = await CountAsync("dashboard, reviewer", reviewer, "/", "Round 1: in review"),
            ["dashboard, admin"] = await CountAsync("dashboard, admin", admin, "/", $"data-call=\"{World.CallSlug}\""),
            ["proposal page, team"] = await CountAsync("proposal page, team", researcher, $"/Proposals/Details/{teamProposal}", "a proposal with a team"),
            ["proposal page, admin"] = await CountAsync("proposal page, admin", admin, $"/Admin/Proposals/Details/{teamProposal}", "a proposal with a team"),
            ["admin list, first page"] = await CountAsync("admin list, first page", admin, $"/Admin/Calls/Proposals/{World.CallSlug}", " found"),
            ["allocation page"] = await CountAsync("allocation page", researcher, $"/Allocations/{world.FirstAllocation}", "running project"),
        };
        var first = await admin.GetPageAsync($"/Admin/Calls/Proposals/{World.CallSlug}");
        var next = WebUtility.HtmlDecode(NextLink().Match(first).Groups[1].Value);
        Assert.NotEmpty(next);
        counts["admin list, next page"] = await CountAsync("admin list, next page", admin, next, " found");
        return counts;
    }

    private async Task<int> CountAsync(string page, PortalClient client, string url, string marker)
    {
        var before = world.Commands.Total;
        using var response = await client.GetAsync(url);
        var html = await response.Content.ReadAsStringAsync();
        sent[page] = world.Commands.SentSince(before);
        var count = sent[page].Count;
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url} answered {(int)response.StatusCode}");
        Assert.Contains(marker, html, StringComparison.Ordinal);
        return count;
    }

    [GeneratedRegex("href=\"([^\"]+)\">Next</a>")]
    private static partial Regex NextLink();
}

using System.Net;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Proposals;

/// <summary>The admin list over a few thousand proposals: full-text search, filters, paging and CSV.</summary>
public sealed partial class AdminProposalListTests : IClassFixture<AdminProposalListTests.ManyProposals>
{
    private const int Count = 3000;
    private readonly ManyProposals portal;

    public AdminProposalListTests(ManyProposals portal) => this.portal = portal;

    public sealed class ManyProposals : PortalFactory
    {
        public TestCalls.OpenCall Call { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            Call = await this.CreateOpenCallAsync("big-call");
            var pi = await this.CreateUserAsync("prolific@example.edu");
            await this.CreateUserAsync("admin@program.example.org", [Roles.Admin]);
            await using var db = NewDbContext();
            var call = await db.Calls.SingleAsync(c => c.Id == Call.Id);
            var now = Clock.GetUtcNow();
            for (var i = 0; i < Count; i++)
            {
                // Every tenth proposal is about quantum chemistry; the rest about language models.
                var topic = i % 10 == 0 ? "Quantum chemistry with neural wavefunctions" : "Scaling laws for multilingual language models";
                var p = Proposal.StartDraft(call, pi.Id, $"{topic} #{i:D4}", now);
                p.UpdateDraft(new ProposalContent(p.Title, new string('x', 60) + " " + topic + " abstract with enough words to index properly.", [i % 10 == 0 ? "quantum" : "nlp"],
                    i % 10 == 0 ? "AI for science" : "Natural language processing", new string('j', 120), false, "", false, "", "MIT licence",
                    PlannedOutputs.Papers, "", [new RequestedHours(Call.ClusterId, 1_000m + i, 1_000m)]), call, now);
                p.Submit(call, pi.Id, now.AddSeconds(i));
                db.Proposals.Add(p);
            }
            await db.SaveChangesAsync();
        }
    }

    private async Task<PortalClient> AdminAsync()
    {
        var client = new PortalClient(portal);
        await client.SignInAsync("admin@program.example.org");
        return client;
    }

    [Fact]
    public async Task Full_text_search_finds_exactly_the_matching_proposals()
    {
        using var client = await AdminAsync();
        var html = await client.GetPageAsync("/Admin/Calls/Proposals/big-call?q=quantum+wavefunctions");
        Assert.Contains($"{Count / 10} found", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Scaling laws", html, StringComparison.Ordinal);

        // Stemming: "wavefunction" matches "wavefunctions"; a term in no proposal matches none.
        Assert.Contains($"{Count / 10} found", await client.GetPageAsync("/Admin/Calls/Proposals/big-call?q=wavefunction"), StringComparison.Ordinal);
        Assert.Contains("0 found", await client.GetPageAsync("/Admin/Calls/Proposals/big-call?q=astrophysics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_follow_the_sort_order_without_gaps_or_repeats()
    {
        using var client = await AdminAsync();
        var first = Titles(await client.GetPageAsync("/Admin/Calls/Proposals/big-call?sort=title&p=1"));
        var second = Titles(await client.GetPageAsync("/Admin/Calls/Proposals/big-call?sort=title&p=2"));
        Assert.Equal(50, first.Count);
        Assert.Equal(50, second.Count);
        var both = first.Concat(second).ToList();
        Assert.Equal(both.Order(StringComparer.Ordinal), both);
        Assert.Equal(100, both.Distinct().Count());

        var last = Titles(await client.GetPageAsync($"/Admin/Calls/Proposals/big-call?sort=title&p={Count / 50}"));
        Assert.Equal(50, last.Count);
        Assert.Contains("Page 60 of 60", await client.GetPageAsync("/Admin/Calls/Proposals/big-call?p=999"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sorting_by_hours_puts_the_largest_total_request_first()
    {
        using var client = await AdminAsync();
        // Proposal #i asks for 1,000 + i hours.
        var first = Titles(await client.GetPageAsync("/Admin/Calls/Proposals/big-call?sort=hours&p=1"));
        Assert.Equal(Enumerable.Range(0, 50).Select(k => $"#{Count - 1 - k:D4}"), first.Select(t => t[^5..]));
        var last = Titles(await client.GetPageAsync($"/Admin/Calls/Proposals/big-call?sort=hours&p={Count / 50}"));
        Assert.EndsWith("#0000", last[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Filters_combine_and_the_csv_export_holds_the_filtered_rows()
    {
        using var client = await AdminAsync();
        var html = await client.GetPageAsync($"/Admin/Calls/Proposals/big-call?field=AI+for+science&cluster={portal.Call.ClusterId}&status=Submitted");
        Assert.Contains($"{Count / 10} found", html, StringComparison.Ordinal);

        using var csv = await client.GetAsync("/Admin/Calls/Proposals/big-call?handler=Csv&q=quantum");
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        Assert.Equal(Count / 10 + 1, lines.Length);
        Assert.StartsWith("id,title,status,pi,institution,field,submitted_at_utc,requested_hours_", lines[0], StringComparison.Ordinal);
        Assert.All(lines.Skip(1), l => Assert.Contains("Quantum chemistry", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Hostile_search_text_is_just_text()
    {
        using var client = await AdminAsync();
        foreach (var q in new[] { "'; DROP TABLE proposals; --", "quantum & | ! (", "<script>alert(1)</script>", new string('a', 5000) })
        {
            using var response = await client.GetAsync("/Admin/Calls/Proposals/big-call?q=" + Uri.EscapeDataString(q));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain("<script>alert(1)</script>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await using var db = portal.NewDbContext();
        Assert.Equal(Count, await db.Proposals.CountAsync());
    }

    [Fact]
    public async Task Researchers_cannot_reach_the_admin_list()
    {
        using var client = new PortalClient(portal);
        await client.SignInAsync("prolific@example.edu");
        using var response = await client.GetAsync("/Admin/Calls/Proposals/big-call");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/AccessDenied", response.Headers.Location!.AbsolutePath, StringComparison.Ordinal);
    }

    private static List<string> Titles(string html) =>
        [.. TitleLink().Matches(html).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value))];

    [GeneratedRegex("<a href=\"/Admin/Proposals/Details/[^\"]+\">([^<]+)</a>")]
    private static partial Regex TitleLink();
}

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
                    PlannedOutputs.Papers, "", [new RequestedHours(Call.ClusterId, 1_000m + i, 1_000m)], false, ""), call, now);
                p.Submit(call, pi.Id, now.AddSeconds(i));
                db.Proposals.Add(p);
            }
            // A draft withdrawn before it was ever submitted: not one of the call's proposals, in no list and no count.
            var abandoned = Proposal.StartDraft(call, pi.Id, "Abandoned draft never submitted", now);
            abandoned.Withdraw(pi.Id, now, "Changed our minds");
            db.Proposals.Add(abandoned);
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
    public async Task Following_next_links_lists_every_proposal_once_in_each_sort_order()
    {
        using var client = await AdminAsync();
        foreach (var sort in new[] { "submitted", "title", "pi", "status", "hours" })
        {
            var pages = await WalkAsync(client, $"/Admin/Calls/Proposals/big-call?sort={sort}");
            Assert.Equal(Count / 50, pages.Count);
            Assert.All(pages, p => Assert.Equal(50, p.Titles.Count));
            var all = pages.SelectMany(p => p.Titles).ToList();
            Assert.Equal(Count, all.Distinct().Count());
            Assert.DoesNotContain(all, t => t.StartsWith("Abandoned", StringComparison.Ordinal));
            Assert.Contains($"Page {Count / 50} of {Count / 50}", pages[^1].Html, StringComparison.Ordinal);
            if (sort == "title")
            {
                Assert.Equal(all.Order(StringComparer.Ordinal), all);
            }
            if (sort == "submitted")
            {
                // Proposal #i was submitted i seconds after the first.
                Assert.Equal(Enumerable.Range(0, Count).Select(i => $"#{i:D4}"), all.Select(t => t[^5..]));
            }
        }
    }

    [Fact]
    public async Task Previous_goes_back_to_the_same_rows_and_the_first_page_has_no_previous()
    {
        using var client = await AdminAsync();
        var pages = await WalkAsync(client, "/Admin/Calls/Proposals/big-call?sort=title", 4);
        Assert.DoesNotContain(">Previous</a>", pages[0].Html, StringComparison.Ordinal);
        var back = await client.GetPageAsync(Link(pages[3].Html, "Previous")!);
        Assert.Equal(pages[2].Titles, Titles(back));
        Assert.Contains("Page 3 of 60", back, StringComparison.Ordinal);
        var first = await client.GetPageAsync(Link(await client.GetPageAsync(Link(back, "Previous")!), "Previous")!);
        Assert.Equal(pages[0].Titles, Titles(first));
        Assert.DoesNotContain(">Previous</a>", first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_position_that_does_not_parse_shows_the_first_page()
    {
        using var client = await AdminAsync();
        var first = Titles(await client.GetPageAsync("/Admin/Calls/Proposals/big-call?sort=title"));
        foreach (var cursor in new[] { "garbage", "%00%01", new string('A', 5000), "eyJJZCI6MX0" })
        {
            var html = await client.GetPageAsync($"/Admin/Calls/Proposals/big-call?sort=title&p=7&after={Uri.EscapeDataString(cursor)}");
            Assert.Equal(first, Titles(html));
            Assert.Contains("Page 1 of 60", html, StringComparison.Ordinal);
        }
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
        Assert.Equal(Count + 1, await db.Proposals.CountAsync()); // the submitted ones and the abandoned draft
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

    /// <summary>The list from <paramref name="url"/> on, following its Next links (at most <paramref name="limit"/> pages).</summary>
    private static async Task<List<(string Html, List<string> Titles)>> WalkAsync(PortalClient client, string url, int limit = int.MaxValue)
    {
        var pages = new List<(string Html, List<string> Titles)>();
        for (string? next = url; next is not null && pages.Count < limit; next = Link(pages[^1].Html, "Next"))
        {
            var html = await client.GetPageAsync(next);
            pages.Add((html, Titles(html)));
        }
        return pages;
    }

    private static string? Link(string html, string text) =>
        PagingLink().Matches(html).FirstOrDefault(m => m.Groups[2].Value == text) is { } m ? WebUtility.HtmlDecode(m.Groups[1].Value) : null;

    [GeneratedRegex("<a class=\"btn btn-sm btn-outline-secondary\" href=\"([^\"]+)\">(Previous|Next)</a>")]
    private static partial Regex PagingLink();

    private static List<string> Titles(string html) =>
        [.. TitleLink().Matches(html).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value))];

    [GeneratedRegex("<a href=\"/Admin/Proposals/Details/[^\"]+\">([^<]+)</a>")]
    private static partial Regex TitleLink();
}

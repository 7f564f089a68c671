using System.Net;
using System.Text.Json;
using System.Xml.Linq;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Tests.Dashboard;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Reports;

/// <summary>
/// The public page of awards shows an award only when its decision was released and its PI accepted it and agreed to the
/// listing; never an unreleased, declined, waitlisted, withdrawn or unlisted one, in the page, the CSV, the JSON or the feed.
/// </summary>
public sealed class PublicAwardsTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private const string Listed = "Listed award with consent";

    private static readonly string[] Hidden =
    [
        "Accepted without consent", "Awarded not released", "Declined proposal", "Waitlisted proposal", "Award declined by the PI", "Withdrawn proposal", "Still in review",
    ];

    /// <summary>The awards in every state (once per class: the tests share the database), and the listed one's id.</summary>
    private async Task<Guid> ArrangeAsync()
    {
        await using (var existing = factory.NewDbContext())
        {
            if (await existing.Proposals.Where(p => p.Title == Listed).Select(p => (Guid?)p.Id).SingleOrDefaultAsync() is { } arranged)
            {
                return arranged;
            }
        }
        var now = factory.Clock.GetUtcNow();
        var admin = await factory.CreateUserAsync("admin@awards.example.org", [Roles.Admin, Roles.Researcher], "Program");
        var pi = await factory.CreateUserAsync("pi@awards.example.edu", institution: "Awards University");
        var (call, cluster) = DashboardWorld.NewCall("awards-call", now);
        Guid listedId;
        await using (var db = factory.NewDbContext())
        {
            db.Clusters.Add(cluster);
            db.Calls.Add(call);
            TestCalls.AddAwardCapacity(db, call, cluster.Id, now);
            var w = new DashboardWorld(db, call, cluster.Id, pi.Id, admin.Id, now);
            listedId = w.Decided(Listed, ProposalDecision.Awarded, released: true).Id;
            w.Decided("Accepted without consent", ProposalDecision.Awarded, released: true);
            w.Decided("Award declined by the PI", ProposalDecision.Awarded, released: true);
            w.Decided("Awarded not released", ProposalDecision.Awarded, released: false);
            w.Decided("Declined proposal", ProposalDecision.Declined, released: true);
            w.Decided("Waitlisted proposal", ProposalDecision.Waitlisted, released: true);
            w.Submitted("Withdrawn proposal").Withdraw(pi.Id, now, "Changed plans.");
            w.InReview("Still in review");
            await db.SaveChangesAsync();
        }
        await factory.WithScopeAsync(async sp =>
        {
            var decisions = sp.GetRequiredService<ReviewDecisions>();
            var db = sp.GetRequiredService<Meta.ComputeAccess.Data.PortalDbContext>();
            var ids = await db.Proposals.ToDictionaryAsync(p => p.Title, p => p.Id);
            await decisions.RespondAsync(ids[Listed], accept: true, pi.Id, default, new PublicListing("An open model for everyone, with its code and weights.", ShowUsage: false));
            await decisions.RespondAsync(ids["Accepted without consent"], accept: true, pi.Id, default);
            await decisions.RespondAsync(ids["Award declined by the PI"], accept: false, pi.Id, default);
        });
        return listedId;
    }

    [Fact]
    public async Task Only_released_accepted_and_consented_awards_are_public_in_every_format()
    {
        var listedId = await ArrangeAsync();
        using var anonymous = new PortalClient(factory);

        var page = await anonymous.GetPageAsync("/Awards");
        using var csv = await anonymous.GetAsync("/Awards?handler=Csv");
        using var json = await anonymous.GetAsync("/Awards?handler=Json");
        using var feed = await anonymous.GetAsync("/Awards?handler=Feed");
        var csvText = await csv.Content.ReadAsStringAsync();
        var jsonText = await json.Content.ReadAsStringAsync();
        var feedText = await feed.Content.ReadAsStringAsync();

        foreach (var text in new[] { page, csvText, jsonText, feedText })
        {
            Assert.Contains(Listed, text, StringComparison.Ordinal);
            foreach (var hidden in Hidden)
            {
                Assert.DoesNotContain(hidden, text, StringComparison.Ordinal);
            }
        }
        Assert.Contains("Awards University", page, StringComparison.Ordinal);
        Assert.Contains("8,000 granted", page, StringComparison.Ordinal);
        // The PI did not agree to show the hours used.
        Assert.DoesNotContain(" used", page[page.IndexOf("8,000 granted", StringComparison.Ordinal)..][..40], StringComparison.Ordinal);
        var listed = Assert.Single(JsonDocument.Parse(jsonText).RootElement.EnumerateArray());
        Assert.Equal(listedId, listed.GetProperty("id").GetGuid());
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("hours")[0].GetProperty("used").ValueKind);
        var atom = XDocument.Parse(feedText);
        XNamespace ns = "http://www.w3.org/2005/Atom";
        Assert.Equal([$"urn:uuid:{listedId}"], atom.Root!.Elements(ns + "entry").Select(e => e.Element(ns + "id")!.Value));
        Assert.Equal("application/atom+xml", feed.Content.Headers.ContentType?.MediaType);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.Equal(2, csvText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task The_page_is_open_to_anyone_and_cacheable_unless_the_reader_is_signed_in()
    {
        using var anonymous = new PortalClient(factory);
        using var response = await anonymous.GetAsync("/Awards");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("public, max-age=300", response.Headers.CacheControl?.ToString());
        Assert.False(response.Headers.Contains("Set-Cookie"), "A shared cache must not store a cookie: " + string.Join("; ", response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : []));

        await factory.CreateUserAsync("reader@awards.example.edu");
        using var signedIn = new PortalClient(factory);
        await signedIn.SignInAsync("reader@awards.example.edu");
        using var personal = await signedIn.GetAsync("/Awards");
        Assert.Equal(HttpStatusCode.OK, personal.StatusCode);
        Assert.True(personal.Headers.CacheControl?.Private == true || personal.Headers.CacheControl?.NoStore == true || personal.Headers.CacheControl?.NoCache == true,
            $"A signed-in reader's page must not be cached publicly: {personal.Headers.CacheControl}");
    }

    [Fact]
    public async Task Filters_by_call_field_and_cluster_narrow_the_list()
    {
        await ArrangeAsync();
        using var anonymous = new PortalClient(factory);

        Assert.Contains(Listed, await anonymous.GetPageAsync("/Awards?call=awards-call&field=Other&cluster=c-awards-call"), StringComparison.Ordinal);
        Assert.DoesNotContain(Listed, await anonymous.GetPageAsync("/Awards?field=Computer%20vision"), StringComparison.Ordinal);
        Assert.DoesNotContain(Listed, await anonymous.GetPageAsync("/Awards?call=no-such-call"), StringComparison.Ordinal);
        Assert.DoesNotContain(Listed, await anonymous.GetPageAsync("/Awards?cluster=no-such-cluster"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consent_without_a_public_summary_is_refused_and_the_award_stays_unanswered()
    {
        var now = factory.Clock.GetUtcNow();
        var admin = await factory.CreateUserAsync("admin2@awards.example.org", [Roles.Admin, Roles.Researcher], "Program");
        var pi = await factory.CreateUserAsync("pi2@awards.example.edu");
        var (call, cluster) = DashboardWorld.NewCall("awards-short", now);
        Guid id;
        await using (var db = factory.NewDbContext())
        {
            db.Clusters.Add(cluster);
            db.Calls.Add(call);
            TestCalls.AddAwardCapacity(db, call, cluster.Id, now);
            id = new DashboardWorld(db, call, cluster.Id, pi.Id, admin.Id, now).Decided("Short summary award", ProposalDecision.Awarded, released: true).Id;
            await db.SaveChangesAsync();
        }
        using var client = new PortalClient(factory);
        await client.SignInAsync(pi.Email!);

        using var response = await client.PostFormAsync($"/Proposals/Details/{id}", new Dictionary<string, string> { ["listPublicly"] = "true", ["publicSummary"] = "Too short" },
            $"/Proposals/Details/{id}?handler=Accept");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("Write a public summary of at least 20 characters", await client.GetPageAsync($"/Proposals/Details/{id}"), StringComparison.Ordinal);
        await using var check = factory.NewDbContext();
        var proposal = await check.Proposals.SingleAsync(p => p.Id == id);
        Assert.Equal((null, false), (proposal.AwardResponse, proposal.ListedPublicly));
        Assert.False(await check.Allocations.AnyAsync(a => a.ProposalId == id));
    }
}

/// <summary>The list and the feed read only as many awards as they show, the newest first.</summary>
public sealed class PublicAwardsLimitTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task A_limited_list_reads_the_newest_awards_only_and_the_feed_is_newest_first()
    {
        var now = factory.Clock.GetUtcNow();
        var admin = await factory.CreateUserAsync("admin@limit.example.org", [Roles.Admin, Roles.Researcher], "Program");
        var pi = await factory.CreateUserAsync("pi@limit.example.edu", institution: "Limit University");
        var (call, cluster) = DashboardWorld.NewCall("limit-call", now);
        string[] titles = ["First listed award", "Second listed award", "Third listed award"];
        var ids = new List<Guid>();
        await using (var db = factory.NewDbContext())
        {
            db.Clusters.Add(cluster);
            db.Calls.Add(call);
            TestCalls.AddAwardCapacity(db, call, cluster.Id, now);
            var w = new DashboardWorld(db, call, cluster.Id, pi.Id, admin.Id, now);
            ids.AddRange(titles.Select(t => w.Decided(t, ProposalDecision.Awarded, released: true).Id));
            await db.SaveChangesAsync();
        }
        foreach (var id in ids)
        {
            // Accepted an hour apart, in title order.
            factory.Clock.Advance(TimeSpan.FromHours(1));
            await factory.WithScopeAsync(sp => sp.GetRequiredService<ReviewDecisions>()
                .RespondAsync(id, accept: true, pi.Id, default, new PublicListing("Listed so the limit can be seen.", ShowUsage: false)));
        }

        await factory.WithScopeAsync(async sp =>
        {
            var awards = sp.GetRequiredService<Meta.ComputeAccess.Reports.PublicAwards>();
            var everything = new Meta.ComputeAccess.Reports.AwardFilter(null, null, null);
            Assert.Equal(titles.Reverse(), (await awards.ListAsync(everything)).Select(a => a.Title));
            Assert.Equal(titles.Reverse().Take(2), (await awards.ListAsync(everything, limit: 2)).Select(a => a.Title));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => awards.ListAsync(everything, limit: 0));
        });
        using var anonymous = new PortalClient(factory);
        using var feed = await anonymous.GetAsync("/Awards?handler=Feed");
        XNamespace ns = "http://www.w3.org/2005/Atom";
        var entries = XDocument.Parse(await feed.Content.ReadAsStringAsync()).Root!.Elements(ns + "entry").Select(e => e.Element(ns + "title")!.Value);
        Assert.Equal(titles.Reverse(), entries);
    }
}

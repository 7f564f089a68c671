using System.Net;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Admin;

public sealed class CallAdministrationTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task A_refused_cluster_offer_is_shown_beside_its_form_as_typed_and_saves_nothing()
    {
        var (client, call, cluster) = await DraftCallAsync("refused-offer");
        using (client)
        {
            var page = $"/Admin/Calls/Edit/{call.Slug}";
            using var response = await client.PostFormAsync(page, new Dictionary<string, string>
            {
                ["clusterId"] = cluster.Id.ToString(), ["budget"] = "100", ["min"] = "0", ["max"] = "250",
            }, page + "?handler=Cluster");

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            Assert.Contains("The minimum request cannot exceed the maximum, and the maximum cannot exceed the cluster&#x27;s budget.", html, StringComparison.Ordinal);
            Assert.Contains("name=\"max\" type=\"number\" min=\"1\" step=\"1\" required value=\"250\"", html, StringComparison.Ordinal);
            await using var db = factory.NewDbContext();
            Assert.Empty((await db.Calls.AsNoTracking().SingleAsync(c => c.Id == call.Id)).Clusters);
            Assert.False(await db.AuditEntries.AnyAsync(a => a.SubjectId == call.Id.ToString() && a.Action == "call.cluster"));
        }
    }

    [Fact]
    public async Task Offering_and_withdrawing_a_cluster_and_removing_a_criterion_are_audited_by_name()
    {
        var (client, call, cluster) = await DraftCallAsync("audited-edits");
        using (client)
        {
            var page = $"/Admin/Calls/Edit/{call.Slug}";
            using (var offered = await client.PostFormAsync(page, new Dictionary<string, string>
                   { ["clusterId"] = cluster.Id.ToString(), ["budget"] = "1000.5", ["min"] = "10", ["max"] = "500" }, page + "?handler=Cluster"))
            {
                Assert.Equal(HttpStatusCode.Redirect, offered.StatusCode);
            }
            using (var added = await client.PostFormAsync(page, new Dictionary<string, string>
                   { ["name"] = "Scientific merit", ["guidance"] = "Is it important?", ["weight"] = "40" }, page + "?handler=AddCriterion"))
            {
                Assert.Equal(HttpStatusCode.Redirect, added.StatusCode);
            }
            Guid criterionId;
            await using (var db = factory.NewDbContext())
            {
                var saved = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == call.Id);
                Assert.Equal(1000.5m, Assert.Single(saved.Clusters).BudgetHours);
                criterionId = Assert.Single(saved.Rubric).Id;
            }
            using (var removed = await client.PostFormAsync(page, new Dictionary<string, string> { ["criterionId"] = criterionId.ToString() }, page + "?handler=RemoveCriterion"))
            {
                Assert.Equal(HttpStatusCode.Redirect, removed.StatusCode);
            }
            using (var withdrawn = await client.PostFormAsync(page, new Dictionary<string, string> { ["clusterId"] = cluster.Id.ToString() }, page + "?handler=RemoveCluster"))
            {
                Assert.Equal(HttpStatusCode.Redirect, withdrawn.StatusCode);
            }

            await using var check = factory.NewDbContext();
            var summaries = await check.AuditEntries.Where(a => a.SubjectId == call.Id.ToString()).OrderBy(a => a.Id).Select(a => a.Summary).ToListAsync();
            Assert.Equal(
            [
                $"Created call {call.Title}",
                $"{call.Title}: offered {cluster.Name} with 1,000.5 h (requests 10–500 h)",
                $"{call.Title}: added criterion Scientific merit",
                $"{call.Title}: removed criterion Scientific merit",
                $"{call.Title}: withdrew {cluster.Name}",
            ], summaries);
            var after = await check.Calls.AsNoTracking().SingleAsync(c => c.Id == call.Id);
            Assert.Empty(after.Clusters);
            Assert.Empty(after.Rubric);
        }
    }

    [Fact]
    public async Task A_refused_transition_is_shown_on_the_call_page_and_saves_nothing()
    {
        var (client, call, _) = await DraftCallAsync("refused-open");
        using (client)
        {
            var page = $"/Admin/Calls/Details/{call.Slug}";
            using var response = await client.PostFormAsync(page, new Dictionary<string, string>(), page + "?handler=Open");

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("Before opening, the call needs a description, at least one cluster with a budget, a review rubric with at least one criterion.",
                await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            await using var db = factory.NewDbContext();
            Assert.Equal(CallStatus.Draft, (await db.Calls.AsNoTracking().SingleAsync(c => c.Id == call.Id)).Status);
            Assert.False(await db.AuditEntries.AnyAsync(a => a.SubjectId == call.Id.ToString() && a.Action == "call.opened"));
        }
    }

    [Fact]
    public async Task A_taken_slug_is_refused_beside_the_slug_field_and_creates_nothing()
    {
        var (client, call, _) = await DraftCallAsync("taken-slug");
        using (client)
        {
            using var response = await client.PostFormAsync("/Admin/Calls/Create", new Dictionary<string, string> { ["Title"] = "A second call", ["Slug"] = call.Slug });

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            Assert.Contains("Another call already uses this slug.", html, StringComparison.Ordinal);
            Assert.Contains("Choose another slug.", html, StringComparison.Ordinal);
            await using var db = factory.NewDbContext();
            Assert.False(await db.Calls.AnyAsync(c => c.Title == "A second call"));
        }
    }

    [Fact]
    public async Task Posts_about_a_call_that_does_not_exist_answer_404()
    {
        var (client, _, cluster) = await DraftCallAsync("exists");
        using (client)
        {
            using var form = await client.PostFormAsync("/Admin/Calls/Edit/exists", new Dictionary<string, string>
                { ["clusterId"] = cluster.Id.ToString(), ["budget"] = "100", ["min"] = "0", ["max"] = "50" }, "/Admin/Calls/Edit/no-such-call?handler=Cluster");
            Assert.Equal(HttpStatusCode.NotFound, form.StatusCode);
            using var open = await client.PostFormAsync("/Admin/Calls/Details/exists", new Dictionary<string, string>(), "/Admin/Calls/Details/no-such-call?handler=Open");
            Assert.Equal(HttpStatusCode.NotFound, open.StatusCode);
        }
    }

    [Fact]
    public async Task A_change_that_lost_a_race_with_another_admin_is_refused_and_saves_nothing()
    {
        var (client, call, _) = await DraftCallAsync("raced");
        client.Dispose();
        await using (var arrange = factory.NewDbContext())
        {
            (await arrange.Calls.SingleAsync(c => c.Id == call.Id)).AddCriterion("Merit", "", 10m);
            await arrange.SaveChangesAsync();
        }
        await using var first = factory.NewDbContext();
        var seen = await first.Calls.SingleAsync(c => c.Id == call.Id);
        seen.UpdateCriterion(seen.Rubric[0].Id, "Merit", "Clearer guidance", 10m);
        // Meanwhile another admin removes the criterion.
        await using (var second = factory.NewDbContext())
        {
            var theirs = await second.Calls.SingleAsync(c => c.Id == call.Id);
            theirs.RemoveCriterion(theirs.Rubric[0].Id);
            await second.SaveChangesAsync();
        }

        var refused = await Assert.ThrowsAsync<DomainException>(() => first.SaveChangesOrRefuseAsync("Changed meanwhile.", default));
        Assert.Equal("Changed meanwhile.", refused.Message);
        await using var check = factory.NewDbContext();
        Assert.Empty((await check.Calls.AsNoTracking().SingleAsync(c => c.Id == call.Id)).Rubric);
    }

    /// <summary>A draft call created through the page by a signed-in admin, and a cluster it can offer.</summary>
    private async Task<(PortalClient Client, Call Call, Cluster Cluster)> DraftCallAsync(string slug)
    {
        var admin = await factory.CreateUserAsync($"admin.{slug}@program.example.org", [Roles.Admin]);
        var cluster = Cluster.Create("Cluster " + slug, "c-" + slug, "H100 80GB", 8, 8, "c" + slug.Replace("-", "", StringComparison.Ordinal), factory.Clock.GetUtcNow());
        await using (var db = factory.NewDbContext())
        {
            db.Clusters.Add(cluster);
            await db.SaveChangesAsync();
        }
        var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);
        using (var created = await client.PostFormAsync("/Admin/Calls/Create", new Dictionary<string, string> { ["Title"] = "Call " + slug, ["Slug"] = slug }))
        {
            Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        }
        await using var check = factory.NewDbContext();
        return (client, await check.Calls.AsNoTracking().SingleAsync(c => c.Slug == slug), cluster);
    }
}

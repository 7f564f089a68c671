using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>
/// <c>GET /api/v1/clusters/{cluster}/associations</c>: the plan the agent applies, exactly as deploy/cluster/README.md
/// specifies it, with a strong ETag; start dates and renewals.
/// </summary>
public sealed class ClusterPlanTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private static async Task<JsonElement> PlanAsync(HttpClient api, string slug)
    {
        using var response = await api.GetAsync(new Uri($"/api/v1/clusters/{slug}/associations", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static JsonElement Account(JsonElement plan, string account) =>
        Assert.Single(plan.GetProperty("accounts").EnumerateArray(), a => a.GetProperty("account").GetString() == account);

    private static string[] Logins(JsonElement account) =>
        [.. account.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("login").GetString()!)];

    [Fact]
    public async Task The_plan_lists_every_account_once_with_its_state_limit_dates_epoch_and_confirmed_member_logins()
    {
        var cluster = await factory.CreateClusterAsync("plan");
        var period = await factory.CreatePeriodAsync("Plan period");
        await factory.SetCapacityAsync(cluster, period, 10_000m);
        var admin = await factory.CreateUserAsync("plan.admin@program.example.org", [Roles.Admin, Roles.Researcher]);
        var pi = await factory.CreateUserAsync("plan.pi@example.edu");
        var member = await factory.CreateUserAsync("plan.member@example.edu");
        var proposer = await factory.CreateUserAsync("plan.proposer@example.edu");
        var invited = await factory.CreateUserAsync("plan.invited@example.edu");
        Task<Meta.ComputeAccess.Allocations.Allocation> GrantAsync(string account, decimal hours, DateOnly? start = null) =>
            factory.GrantAsync(period, pi.Id, "Project " + account, new Dictionary<Guid, decimal> { [cluster.Id] = hours }, account: account, start: start);
        var active = await GrantAsync("plan-active", 10.99m);
        var suspended = await GrantAsync("plan-suspended", 20m);
        var closed = await GrantAsync("plan-closed", 30m);
        var pending = await GrantAsync("plan-pending", 40m, start: factory.Today().AddDays(20));
        await factory.WithScopeAsync(async sp =>
        {
            var service = sp.GetRequiredService<AllocationService>();
            await service.SuspendAsync(suspended.Id, "Security incident under review.", admin.Id);
            await service.CloseAsync(closed.Id, "The project moved to another program.", admin.Id);
        });
        await factory.SetLoginAsync(cluster, pi, "ppi", admin.Id);
        await factory.SetLoginAsync(cluster, member, "pmember", admin.Id);
        await factory.SetLoginAsync(cluster, invited, "pinvited", admin.Id);
        await factory.AddMemberAsync(active, member);
        await factory.AddMemberAsync(active, proposer);
        await factory.WithScopeAsync(async sp =>
        {
            // A proposed login is not sent until an admin confirms it; an open invitation gives no access.
            await sp.GetRequiredService<Clusters.ClusterLogins>().ProposeAsync(proposer.Id, cluster.Id, "pproposer");
            await sp.GetRequiredService<AllocationMembers>().InviteAsync(active.Id, Viewer.Applicant(pi.Id), invited.Email!);
        });

        using var api = factory.ApiClient(await factory.CreateTokenAsync(cluster));
        var plan = await PlanAsync(api, cluster.Slug);
        Assert.Equal(cluster.Slug, plan.GetProperty("cluster").GetString());
        Assert.Equal(cluster.SlurmClusterName, plan.GetProperty("slurmCluster").GetString());
        Assert.Equal("gres/gpu", plan.GetProperty("tres").GetString());
        Assert.Matches("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$", plan.GetProperty("generatedAt").GetString());
        Assert.Equal(["plan-active", "plan-closed", "plan-pending", "plan-suspended"],
            plan.GetProperty("accounts").EnumerateArray().Select(a => a.GetProperty("account").GetString()));

        var a = Account(plan, "plan-active");
        Assert.Equal("Active", a.GetProperty("state").GetString());
        Assert.Equal(659, a.GetProperty("limitTresMinutes").GetInt64());                 // 10.99 h × 60 = 659.4, rounded down
        Assert.Equal(active.Id.ToString(), a.GetProperty("allocationId").GetString());
        Assert.Equal(active.Id.ToString(), a.GetProperty("usageEpoch").GetString());
        Assert.Equal(active.StartDate.ToString("yyyy-MM-dd"), a.GetProperty("start").GetString());
        Assert.Equal(active.EndDate.ToString("yyyy-MM-dd"), a.GetProperty("end").GetString());
        Assert.Equal(["pmember", "ppi"], Logins(a));
        var s = Account(plan, "plan-suspended");
        Assert.Equal(("Suspended", 0L), (s.GetProperty("state").GetString(), s.GetProperty("limitTresMinutes").GetInt64()));
        Assert.Equal(["ppi"], Logins(s));
        var p = Account(plan, "plan-pending");
        Assert.Equal(("Pending", 0L), (p.GetProperty("state").GetString(), p.GetProperty("limitTresMinutes").GetInt64()));
        Assert.Equal(["ppi"], Logins(p));
        // An ended allocation stays in the plan at 0 with nobody left on the account.
        var c = Account(plan, "plan-closed");
        Assert.Equal(("Closed", 0L), (c.GetProperty("state").GetString(), c.GetProperty("limitTresMinutes").GetInt64()));
        Assert.Empty(Logins(c));

        // The people's list stays as it was: active accounts in the JSON, open ones in the sacctmgr text.
        var text = await api.GetStringAsync(new Uri($"/api/v1/clusters/{cluster.Slug}/quotas?format=sacctmgr", UriKind.Relative));
        Assert.Contains("name=plan-pending cluster=slurm-plan set GrpTRESMins=gres/gpu=0\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("plan-closed", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unchanged_plan_answers_304_to_its_etag_and_a_change_gives_a_new_tag_and_body()
    {
        var cluster = await factory.CreateClusterAsync("etag");
        var period = await factory.CreatePeriodAsync("ETag period");
        await factory.SetCapacityAsync(cluster, period, 10_000m);
        var admin = await factory.CreateUserAsync("etag.admin@program.example.org", [Roles.Admin, Roles.Researcher]);
        var pi = await factory.CreateUserAsync("etag.pi@example.edu");
        var allocation = await factory.GrantAsync(period, pi.Id, "Tagged", new Dictionary<Guid, decimal> { [cluster.Id] = 100m }, account: "etag-acct");
        using var api = factory.ApiClient(await factory.CreateTokenAsync(cluster));
        var uri = new Uri($"/api/v1/clusters/{cluster.Slug}/associations", UriKind.Relative);

        using var first = await api.GetAsync(uri);
        var etag = first.Headers.ETag!;
        Assert.False(etag.IsWeak);
        var body = await first.Content.ReadAsStringAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(15));
        using var second = await api.GetAsync(uri);
        Assert.Equal(etag, second.Headers.ETag);
        Assert.Equal(body, await second.Content.ReadAsStringAsync());   // strong: the same bytes, generatedAt included

        foreach (var header in new[] { etag.Tag, $"\"other\", {etag.Tag}", $"W/{etag.Tag}", "*" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.TryAddWithoutValidation("If-None-Match", header);
            using var unchanged = await api.SendAsync(request);
            Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
            Assert.Equal(etag, unchanged.Headers.ETag);
            Assert.Empty(await unchanged.Content.ReadAsByteArrayAsync());
        }

        await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().AdjustAsync(allocation.Id, cluster.Id, 1m, "One more hour for a rerun.", admin.Id));
        using var stale = new HttpRequestMessage(HttpMethod.Get, uri);
        stale.Headers.IfNoneMatch.Add(etag);
        using var changed = await api.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.NotEqual(etag, changed.Headers.ETag);
        var plan = JsonDocument.Parse(await changed.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(6060, Account(plan, "etag-acct").GetProperty("limitTresMinutes").GetInt64());
        Assert.NotEqual(JsonDocument.Parse(body).RootElement.GetProperty("generatedAt").GetString(), plan.GetProperty("generatedAt").GetString());

        // A member's confirmed login changes the plan too.
        var member = await factory.CreateUserAsync("etag.member@example.edu");
        await factory.SetLoginAsync(cluster, member, "etagmember", admin.Id);
        var before = changed.Headers.ETag;
        await factory.AddMemberAsync(allocation, member);
        using var withMember = await api.GetAsync(uri);
        Assert.NotEqual(before, withMember.Headers.ETag);
    }

    [Fact]
    public async Task A_token_reads_only_its_own_clusters_plan()
    {
        var own = await factory.CreateClusterAsync("planown");
        var other = await factory.CreateClusterAsync("planother");
        using var api = factory.ApiClient(await factory.CreateTokenAsync(own));
        using var refused = await api.GetAsync(new Uri($"/api/v1/clusters/{other.Slug}/associations", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("planown", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var anonymous = factory.CreateClient();
        using var unauthorized = await anonymous.GetAsync(new Uri($"/api/v1/clusters/{own.Slug}/associations", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    [Fact]
    public async Task A_renewal_is_a_new_allocation_of_the_account_with_a_new_epoch_once_the_old_one_ends()
    {
        var cluster = await factory.CreateClusterAsync("renew");
        var period = await factory.CreatePeriodAsync("Renewal period");
        await factory.SetCapacityAsync(cluster, period, 10_000m);
        var admin = await factory.CreateUserAsync("renew.admin@program.example.org", [Roles.Admin, Roles.Researcher]);
        var pi = await factory.CreateUserAsync("renew.pi@example.edu");
        var today = factory.Today();
        var first = await factory.GrantAsync(period, pi.Id, "First year", new Dictionary<Guid, decimal> { [cluster.Id] = 100m }, account: "renew-acct",
            start: today.AddDays(-20), end: today.AddDays(9));

        // Overlapping an open allocation of the same account is refused and creates nothing.
        var overlap = await Assert.ThrowsAsync<DomainException>(() => factory.GrantAsync(period, pi.Id, "Too early", new Dictionary<Guid, decimal> { [cluster.Id] = 5m },
            account: "renew-acct", start: today.AddDays(9), end: today.AddDays(60)));
        Assert.Contains("held by the allocation \"First year\"", overlap.Message, StringComparison.Ordinal);
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(1, await db.Allocations.CountAsync(a => a.SlurmAccount == "renew-acct"));
        }

        // The renewal is granted ahead of time: pending, and the plan keeps the running allocation in force.
        var second = await factory.GrantAsync(period, pi.Id, "Second year", new Dictionary<Guid, decimal> { [cluster.Id] = 50m }, account: "renew-acct",
            start: today.AddDays(10), end: today.AddDays(100));
        Assert.Equal(AllocationState.Pending, second.State);
        using var api = factory.ApiClient(await factory.CreateTokenAsync(cluster));
        var before = Account(await PlanAsync(api, cluster.Slug), "renew-acct");
        Assert.Equal((first.Id.ToString(), "Active", 6000L), (before.GetProperty("usageEpoch").GetString(), before.GetProperty("state").GetString(), before.GetProperty("limitTresMinutes").GetInt64()));

        // On the renewal's start date the lifecycle job ends the first and starts the second: a new epoch, exactly the new grant.
        factory.Clock.Advance(TimeSpan.FromDays(10));
        await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationLifecycleJob>().RunAsync());
        var after = Account(await PlanAsync(api, cluster.Slug), "renew-acct");
        Assert.Equal((second.Id.ToString(), second.Id.ToString(), "Active", 3000L),
            (after.GetProperty("allocationId").GetString(), after.GetProperty("usageEpoch").GetString(), after.GetProperty("state").GetString(), after.GetProperty("limitTresMinutes").GetInt64()));
        await using var check = factory.NewDbContext();
        Assert.Equal(AllocationState.Expired, (await check.Allocations.SingleAsync(a => a.Id == first.Id)).State);

        // Closing early frees the account at once: a renewal may start the same day.
        var third = await Assert.ThrowsAsync<DomainException>(() => factory.GrantAsync(period, pi.Id, "Third", new Dictionary<Guid, decimal> { [cluster.Id] = 5m },
            account: "renew-acct", start: factory.Today(), end: factory.Today().AddDays(30)));
        Assert.Contains("Second year", third.Message, StringComparison.Ordinal);
        await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CloseAsync(second.Id, "Replaced by a larger project.", admin.Id));
        var replacement = await factory.GrantAsync(period, pi.Id, "Third", new Dictionary<Guid, decimal> { [cluster.Id] = 5m }, account: "renew-acct",
            start: factory.Today(), end: factory.Today().AddDays(30));
        Assert.Equal(replacement.Id.ToString(), Account(await PlanAsync(api, cluster.Slug), "renew-acct").GetProperty("usageEpoch").GetString());
    }

    [Fact]
    public async Task Plan_contents_served_long_ago_are_purged_and_each_clusters_newest_is_kept()
    {
        var cluster = await factory.CreateClusterAsync("plan-purge");
        var quiet = await factory.CreateClusterAsync("plan-quiet");
        var period = await factory.CreatePeriodAsync("Plan purge period");
        await factory.SetCapacityAsync(cluster, period, 10_000m);
        var admin = await factory.CreateUserAsync("purge.admin@program.example.org", [Roles.Admin, Roles.Researcher]);
        var pi = await factory.CreateUserAsync("purge.pi@example.edu");
        var allocation = await factory.GrantAsync(period, pi.Id, "Purged plans", new Dictionary<Guid, decimal> { [cluster.Id] = 100m }, account: "purge-acct");
        using var api = factory.ApiClient(await factory.CreateTokenAsync(cluster));
        using var quietApi = factory.ApiClient(await factory.CreateTokenAsync(quiet));
        var firstPlan = (await PlanAsync(api, cluster.Slug)).GetProperty("generatedAt").GetString();
        await PlanAsync(quietApi, quiet.Slug);
        // Asking again for the same content adds nothing; a change adds a row.
        await PlanAsync(api, cluster.Slug);
        factory.Clock.Advance(TimeSpan.FromDays(60));
        await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().SuspendAsync(allocation.Id, "Checking the account.", admin.Id));
        var secondPlan = (await PlanAsync(api, cluster.Slug)).GetProperty("generatedAt").GetString();
        factory.Clock.Advance(TimeSpan.FromDays(40));
        await factory.GrantAsync(period, pi.Id, "More plans", new Dictionary<Guid, decimal> { [cluster.Id] = 50m }, account: "purge-acct-2");
        var thirdPlan = (await PlanAsync(api, cluster.Slug)).GetProperty("generatedAt").GetString();
        await using var db = factory.NewDbContext();
        Assert.Equal(3, await db.ClusterPlanVersions.CountAsync(v => v.ClusterId == cluster.Id));

        // Other tests of this class share the database (and so their own old contents may go too).
        Assert.True(await factory.WithScopeAsync(sp => sp.GetRequiredService<PurgeClusterPlanVersionsJob>().RunAsync()) >= 1);

        // 100 days on: the first content (served 100 days ago) goes; the second (40 days) and the newest stay, and the
        // quiet cluster's only content, 100 days old, is its newest and stays too.
        var kept = await db.ClusterPlanVersions.Where(v => v.ClusterId == cluster.Id).OrderBy(v => v.FirstServedAt).Select(v => v.FirstServedAt).ToListAsync();
        Assert.Equal([secondPlan, thirdPlan], kept.Select(t => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.NotEqual(firstPlan, secondPlan);
        Assert.Equal(1, await db.ClusterPlanVersions.CountAsync(v => v.ClusterId == quiet.Id));
    }
}

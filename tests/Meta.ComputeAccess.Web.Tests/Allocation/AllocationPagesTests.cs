using System.Net;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

public sealed class AllocationPagesTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task The_PI_sees_balances_and_burn_down_and_another_researcher_gets_404()
    {
        var cluster = await factory.CreateClusterAsync("pages");
        var period = await factory.CreatePeriodAsync("Pages period");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await factory.CreateUserAsync("pages.pi@example.edu");
        var other = await factory.CreateUserAsync("pages.other@example.edu");
        var allocation = await factory.GrantAsync(period, pi.Id, "Visible project", new Dictionary<Guid, decimal> { [cluster.Id] = 250m }, account: "visible-acct");
        using (var api = factory.ApiClient(await factory.CreateTokenAsync(cluster)))
        {
            using var _ = await api.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(factory.Sacct(("9101", "visible-acct", 8))));
        }

        using var piClient = new PortalClient(factory);
        await piClient.SignInAsync(pi.Email!);
        var html = await piClient.GetPageAsync($"/Allocations/{allocation.Id}");
        Assert.Contains("Visible project", html, StringComparison.Ordinal);
        Assert.Contains("<svg class=\"chart\"", html, StringComparison.Ordinal);
        Assert.Contains(">242<", html, StringComparison.Ordinal);
        Assert.Contains("9101", html, StringComparison.Ordinal);
        Assert.Contains("visible-acct", await piClient.GetPageAsync("/Allocations"), StringComparison.Ordinal);
        using (var csv = await piClient.GetAsync($"/Allocations/{allocation.Id}?handler=Jobs"))
        {
            Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
            Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
            var lines = (await csv.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
            Assert.Equal("cluster,job_id,account,user,started_at_utc,ended_at_utc,elapsed_seconds,gpus,gpu_hours,state,submitted_at_utc", lines[0]);
            var job = Assert.Single(lines.Skip(1));
            Assert.StartsWith("Cluster pages,9101,visible-acct,alice,", job, StringComparison.Ordinal);
            // The test's sacct output has no Submit column: the submit time is empty.
            Assert.EndsWith(",3600,8,8.000000,COMPLETED,", job, StringComparison.Ordinal);
        }

        using var otherClient = new PortalClient(factory);
        await otherClient.SignInAsync(other.Email!);
        using var hidden = await otherClient.GetAsync($"/Allocations/{allocation.Id}");
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        using var hiddenJobs = await otherClient.GetAsync($"/Allocations/{allocation.Id}?handler=Jobs");
        Assert.Equal(HttpStatusCode.NotFound, hiddenJobs.StatusCode);
        using var hiddenSupplement = await otherClient.GetAsync($"/Allocations/{allocation.Id}/Supplement");
        Assert.Equal(HttpStatusCode.NotFound, hiddenSupplement.StatusCode);
        Assert.DoesNotContain("visible-acct", await otherClient.GetPageAsync("/Allocations"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_slow_pace_says_the_hours_last_beyond_the_end_date_and_the_burn_down_ends_on_it()
    {
        var cluster = await factory.CreateClusterAsync("slowpace");
        var period = await factory.CreatePeriodAsync("Slow period");
        await factory.SetCapacityAsync(cluster, period, 100_000m);
        var pi = await factory.CreateUserAsync("slow.pi@example.edu");
        var end = factory.Today().AddDays(90);
        var allocation = await factory.GrantAsync(period, pi.Id, "Slow project", new Dictionary<Guid, decimal> { [cluster.Id] = 50_000m }, account: "slow-acct", end: end);
        using var piClient = new PortalClient(factory);
        await piClient.SignInAsync(pi.Email!);

        // No usage at all: nothing runs out.
        var idle = await piClient.GetPageAsync($"/Allocations/{allocation.Id}");
        Assert.Contains("the hours last beyond the end date", idle, StringComparison.Ordinal);
        Assert.DoesNotContain("Projected exhaustion", idle, StringComparison.Ordinal);

        // One GPU-hour in ten days: at that pace the 49,999 left would last until the 2150s, which is no warning.
        using (var api = factory.ApiClient(await factory.CreateTokenAsync(cluster)))
        {
            using var posted = await api.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), AllocationWorld.SacctContent(factory.Sacct(("9201", "slow-acct", 1))));
            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        }
        var html = await piClient.GetPageAsync($"/Allocations/{allocation.Id}");
        Assert.Contains(">49,999<", html, StringComparison.Ordinal);
        Assert.Contains("the hours last beyond the end date", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Projected exhaustion", html, StringComparison.Ordinal);
        // The chart's axis ends on the end date, not the day after it.
        Assert.Contains($">{end:yyyy-MM-dd}</text>", html, StringComparison.Ordinal);
        Assert.DoesNotContain($">{end.AddDays(1):yyyy-MM-dd}</text>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_awarded_proposals_team_sees_the_allocation_and_hears_of_it_but_only_the_PI_asks_for_more()
    {
        var open = await factory.CreateOpenCallAsync("team-call");
        var cluster = await factory.CreateClusterAsync("pagesteam");
        var period = await factory.CreatePeriodAsync("Team period");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await factory.CreateUserAsync("team.pi@example.edu");
        var co = await factory.CreateUserAsync("team.co@example.edu");
        var invited = await factory.CreateUserAsync("team.invited@example.edu");
        Guid proposalId;
        await using (var db = factory.NewDbContext())
        {
            var call = await db.Calls.SingleAsync(c => c.Id == open.Id);
            var now = factory.Clock.GetUtcNow();
            var proposal = Meta.ComputeAccess.Proposals.Proposal.StartDraft(call, pi.Id, "Team project", now);
            proposal.AddCoInvestigator(co.Email!, co.Id, now);                     // invited, and accepted
            proposal.InviteCoInvestigator(invited.Email!, null, pi.Id, now);      // an open invitation gives nothing
            db.Proposals.Add(proposal);
            await db.SaveChangesAsync();
            proposalId = proposal.Id;
        }
        var allocation = await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CreateAsync(
            new NewAllocation(period.Id, pi.Id, "Team project", factory.Today().AddDays(-1), factory.Today().AddDays(90),
                new Dictionary<Guid, decimal> { [cluster.Id] = 100m }, ProposalId: proposalId, SlurmAccount: "team-acct"), actor: null));

        using var coClient = new PortalClient(factory);
        await coClient.SignInAsync(co.Email!);
        Assert.Contains("team-acct", await coClient.GetPageAsync("/Allocations"), StringComparison.Ordinal);
        var page = await coClient.GetPageAsync($"/Allocations/{allocation.Id}");
        Assert.Contains("Team project", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Ask for more hours", page, StringComparison.Ordinal);
        using (var supplement = await coClient.GetAsync($"/Allocations/{allocation.Id}/Supplement"))
        {
            Assert.Equal(HttpStatusCode.NotFound, supplement.StatusCode);
        }

        using var invitedClient = new PortalClient(factory);
        await invitedClient.SignInAsync(invited.Email!);
        using (var hidden = await invitedClient.GetAsync($"/Allocations/{allocation.Id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        }
        Assert.DoesNotContain("team-acct", await invitedClient.GetPageAsync("/Allocations"), StringComparison.Ordinal);

        await using var check = factory.NewDbContext();
        var told = await check.Notifications.Where(n => n.Kind == Meta.ComputeAccess.Notifications.NotificationKinds.AllocationActive && n.Link == $"/Allocations/{allocation.Id}")
            .Select(n => n.UserId).ToListAsync();
        Assert.Equal(new[] { pi.Id, co.Id }.Order(), told.Order());
    }

    [Fact]
    public async Task The_PI_asks_for_a_supplement_and_a_too_short_justification_is_refused_beside_the_field()
    {
        var cluster = await factory.CreateClusterAsync("pagesupp");
        var period = await factory.CreatePeriodAsync("Page supplement period");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await factory.CreateUserAsync("pagesupp.pi@example.edu");
        var allocation = await factory.GrantAsync(period, pi.Id, "Wants more", new Dictionary<Guid, decimal> { [cluster.Id] = 100m });
        using var client = new PortalClient(factory);
        await client.SignInAsync(pi.Email!);
        var page = $"/Allocations/{allocation.Id}/Supplement";

        using (var tooShort = await client.PostFormAsync(page, new Dictionary<string, string>
               { ["Input.ClusterId"] = cluster.Id.ToString(), ["Input.Hours"] = "50", ["Input.Justification"] = "more" }))
        {
            Assert.Equal(HttpStatusCode.OK, tooShort.StatusCode);
            Assert.Contains("Write 20 to 4,000 characters.", await tooShort.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var ok = await client.PostFormAsync(page, new Dictionary<string, string>
               { ["Input.ClusterId"] = cluster.Id.ToString(), ["Input.Hours"] = "50", ["Input.Justification"] = "A second ablation study needs fifty more hours." }))
        {
            Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        }
        await using var db = factory.NewDbContext();
        var request = await db.SupplementRequests.SingleAsync(s => s.AllocationId == allocation.Id);
        Assert.Equal(50m, request.RequestedHours);
        Assert.Equal(SupplementStatus.Pending, request.Status);
    }

    [Fact]
    public async Task An_admin_sets_the_time_zone_usage_is_read_in_and_an_unknown_zone_is_refused_beside_the_field()
    {
        var cluster = await factory.CreateClusterAsync("pagetz");
        var admin = await factory.CreateUserAsync("pagetz.admin@example.org", [Roles.Admin]);
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);
        var page = $"/Admin/Clusters/Edit/{cluster.Slug}";
        Dictionary<string, string> Form(string zone) => new()
        {
            ["Input.Name"] = cluster.Name, ["Input.AcceleratorModel"] = cluster.AcceleratorModel, ["Input.Nodes"] = "8",
            ["Input.AcceleratorsPerNode"] = "8", ["Input.SlurmClusterName"] = cluster.SlurmClusterName, ["Input.Status"] = "Available",
            ["Input.TimeZoneId"] = zone,
        };

        using (var unknown = await client.PostFormAsync(page, Form("Mars/Olympus_Mons")))
        {
            Assert.Equal(HttpStatusCode.OK, unknown.StatusCode);
            Assert.Contains("Choose a time zone from the list.", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal("UTC", (await db.Clusters.SingleAsync(c => c.Id == cluster.Id)).TimeZoneId);
        }
        using (var saved = await client.PostFormAsync(page, Form("Europe/Paris")))
        {
            Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        }
        await using var check = factory.NewDbContext();
        Assert.Equal("Europe/Paris", (await check.Clusters.SingleAsync(c => c.Id == cluster.Id)).TimeZoneId);
        Assert.Contains("<option value=\"Europe/Paris\" selected=\"selected\">", await client.GetPageAsync(page), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admin_creates_an_allocation_from_the_page_and_capacity_cannot_be_cut_below_what_is_granted()
    {
        var cluster = await factory.CreateClusterAsync("pageadmin");
        var period = await factory.CreatePeriodAsync("Page admin period");
        await factory.SetCapacityAsync(cluster, period, 500m);
        var admin = await factory.CreateUserAsync("pages.admin@example.org", [Roles.Admin, Roles.Researcher]);
        var pi = await factory.CreateUserAsync("pageadmin.pi@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);

        using (var created = await client.PostFormAsync("/Admin/Allocations/Create", new Dictionary<string, string>
        {
            ["Input.PiEmail"] = pi.Email!,
            ["Input.ProjectTitle"] = "Protein folding at scale",
            ["Input.PeriodId"] = period.Id.ToString(),
            ["Input.StartDate"] = factory.Today().ToString("yyyy-MM-dd"),
            ["Input.EndDate"] = factory.Today().AddDays(60).ToString("yyyy-MM-dd"),
            [$"Input.Hours[{cluster.Id}]"] = "400",
        }))
        {
            Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        }
        await using (var db = factory.NewDbContext())
        {
            var allocation = await db.Allocations.SingleAsync(a => a.PiUserId == pi.Id);
            Assert.StartsWith("protein-folding-at-s", allocation.SlurmAccount, StringComparison.Ordinal);
            Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "allocation.created" && a.ActorUserId == admin.Id));
        }
        using (var over = await client.PostFormAsync("/Admin/Allocations/Create", new Dictionary<string, string>
        {
            ["Input.PiEmail"] = pi.Email!,
            ["Input.ProjectTitle"] = "Too big",
            ["Input.PeriodId"] = period.Id.ToString(),
            ["Input.StartDate"] = factory.Today().ToString("yyyy-MM-dd"),
            ["Input.EndDate"] = factory.Today().AddDays(60).ToString("yyyy-MM-dd"),
            [$"Input.Hours[{cluster.Id}]"] = "101",
        }))
        {
            Assert.Equal(HttpStatusCode.OK, over.StatusCode);
            Assert.Contains("Not enough capacity", await over.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var edit = $"/Admin/Capacity/Edit?cluster={cluster.Id}&period={period.Id}";
        using var cut = await client.PostFormAsync(edit, new Dictionary<string, string>
            { ["Input.CapacityHours"] = "300", ["Input.Factor"] = "1.0", ["Input.ReserveHours"] = "0" });
        Assert.Equal(HttpStatusCode.OK, cut.StatusCode);
        Assert.Contains("400 GPU-hours are already granted", await cut.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("Page admin period", await client.GetPageAsync($"/Admin/Capacity?period={period.Id}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admin_token_is_shown_once_stored_hashed_and_revocable_and_researchers_cannot_reach_the_page()
    {
        var cluster = await factory.CreateClusterAsync("pagetok");
        var admin = await factory.CreateUserAsync("tokens.admin@example.org", [Roles.Admin]);
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);
        using var created = await client.PostFormAsync("/Admin/Tokens", new Dictionary<string, string>
            { ["Input.ClusterSlug"] = cluster.Slug, ["Input.Name"] = "cron on login1" }, "/Admin/Tokens?handler=Create");
        var html = await created.Content.ReadAsStringAsync();
        var secret = System.Text.RegularExpressions.Regex.Match(html, "mca_[A-Za-z0-9_-]{43}").Value;
        Assert.NotEmpty(secret);
        Assert.DoesNotContain(secret, await client.GetPageAsync("/Admin/Tokens"), StringComparison.Ordinal);

        await using var db = factory.NewDbContext();
        var token = await db.ClusterTokens.SingleAsync(t => t.ClusterId == cluster.Id);
        Assert.Equal(Clusters.ClusterToken.Hash(secret), token.SecretHash);
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "cluster-token.created" && a.ActorUserId == admin.Id));

        using var api = factory.ApiClient(secret);
        using (var ok = await api.GetAsync(new Uri($"/api/v1/clusters/{cluster.Slug}/quotas", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using (var revoke = await client.PostFormAsync("/Admin/Tokens", new Dictionary<string, string>(), $"/Admin/Tokens?handler=Revoke&id={token.Id}"))
        {
            Assert.Equal(HttpStatusCode.Redirect, revoke.StatusCode);
        }
        using (var refused = await api.GetAsync(new Uri($"/api/v1/clusters/{cluster.Slug}/quotas", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var researcher = await factory.CreateUserAsync("tokens.curious@example.edu");
        using var curious = new PortalClient(factory);
        await curious.SignInAsync(researcher.Email!);
        foreach (var page in new[] { "/Admin/Tokens", "/Admin/Capacity", "/Admin/Allocations", "/Admin/Usage/Unmatched" })
        {
            using var denied = await curious.GetAsync(page);
            Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
            Assert.StartsWith("/Account/AccessDenied", denied.Headers.Location!.AbsolutePath, StringComparison.Ordinal);
        }
        // A signed-in user's cookie is no cluster token: the API refuses it.
        using var cookieOnly = await curious.GetAsync($"/api/v1/clusters/{cluster.Slug}/quotas");
        Assert.Equal(HttpStatusCode.Unauthorized, cookieOnly.StatusCode);
    }
}

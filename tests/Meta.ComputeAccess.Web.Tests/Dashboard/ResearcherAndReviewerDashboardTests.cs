using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Dashboard;

/// <summary>The researcher's and the reviewer's dashboards list what is theirs to do, and nothing they may not see.</summary>
public sealed class ResearcherAndReviewerDashboardTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task A_researcher_sees_each_proposal_with_its_next_step_allocations_with_balance_and_waiting_invitations()
    {
        var now = factory.Clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var admin = await factory.CreateUserAsync("admin@todo.example.org", [Roles.Admin, Roles.Researcher], "Program");
        var pi = await factory.CreateUserAsync("pi@todo.example.edu");
        var colleague = await factory.CreateUserAsync("colleague@todo.example.edu");
        var (call, cluster) = DashboardWorld.NewCall("todo-call", now, TimeSpan.FromDays(5));
        Proposal draft, submitted, awarded, unreleased, declined, theirs;
        await using (var db = factory.NewDbContext())
        {
            db.Clusters.Add(cluster);
            db.Calls.Add(call);
            var w = new DashboardWorld(db, call, cluster.Id, pi.Id, admin.Id, now);
            draft = w.Draft("My draft");
            draft.InviteCoInvestigator("not.registered@todo.example.edu", null, pi.Id, now);
            submitted = w.Submitted("My submitted proposal");
            awarded = w.Decided("My awarded proposal", ProposalDecision.Awarded, released: true);
            unreleased = w.Decided("My decided but unreleased proposal", ProposalDecision.Declined, released: false);
            declined = w.Decided("My declined proposal", ProposalDecision.Declined, released: true);
            theirs = w.Draft("A colleague's proposal", colleague.Id);
            theirs.AddCoInvestigator(pi.Email!, pi.Id, now);
            theirs.Submit(call, colleague.Id, now);
            w.Submitted("Not mine at all", colleague.Id);
            await db.SaveChangesAsync();
        }
        var period = AllocationPeriod.Create("Todo period", today.AddDays(-40), today.AddDays(200), now);
        await using (var db = factory.NewDbContext())
        {
            db.AllocationPeriods.Add(period);
            db.ClusterCapacities.Add(ClusterCapacity.Create(cluster.Id, period.Id, 100_000m, 1m, 0m, now));
            await db.SaveChangesAsync();
        }
        var allocation = await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CreateAsync(
            new NewAllocation(period.Id, pi.Id, "My running project", today.AddDays(-20), today.AddDays(40),
                new Dictionary<Guid, decimal> { [cluster.Id] = 12_000m }, SlurmAccount: "todo-acct"), admin.Id));
        // Two jobs of 8 GPUs for 2.5 hours, charged through the ingest: 40 GPU-hours.
        var day = now.UtcDateTime.Date.AddDays(-3);
        var sacct = "JobID|Account|User|Start|End|ElapsedRaw|AllocTRES|State\n"
            + $"770001|todo-acct|pi|{day.AddHours(1):yyyy-MM-ddTHH:mm:ss}|{day.AddHours(3.5):yyyy-MM-ddTHH:mm:ss}|9000|gres/gpu=8|COMPLETED\n"
            + $"770002|todo-acct|pi|{day.AddHours(5):yyyy-MM-ddTHH:mm:ss}|{day.AddHours(7.5):yyyy-MM-ddTHH:mm:ss}|9000|gres/gpu=8|COMPLETED\n";
        await factory.WithScopeAsync(sp => sp.GetRequiredService<UsageIngest>().IngestAsync(cluster.Id, SacctParser.Parse(new StringReader(sacct), UsageBodyFormat.SacctParsable2)));

        using var client = new PortalClient(factory);
        await client.SignInAsync(pi.Email!);
        var html = await client.GetPageAsync("/");

        Assert.Contains("Finish and submit it before the deadline.", DashboardWorld.Row(html, "data-proposal", draft.Id.ToString()), StringComparison.Ordinal);
        Assert.Contains("5 days 0 h left", DashboardWorld.Row(html, "data-proposal", draft.Id.ToString()), StringComparison.Ordinal);
        Assert.Contains("Submitted: the program screens it next.", DashboardWorld.Row(html, "data-proposal", submitted.Id.ToString()), StringComparison.Ordinal);
        Assert.Contains("Awarded: accept or decline the award.", DashboardWorld.Row(html, "data-proposal", awarded.Id.ToString()), StringComparison.Ordinal);
        Assert.Contains("Declined: read the decision", DashboardWorld.Row(html, "data-proposal", declined.Id.ToString()), StringComparison.Ordinal);
        // A decision not released yet is nobody's business but the program's.
        var hidden = DashboardWorld.Text(DashboardWorld.Row(html, "data-proposal", unreleased.Id.ToString()));
        Assert.Contains("Under review: you hear as soon as the decision is released.", hidden, StringComparison.Ordinal);
        Assert.DoesNotContain("eclined", hidden, StringComparison.Ordinal);
        Assert.Contains("co-investigator", DashboardWorld.Row(html, "data-proposal", theirs.Id.ToString()), StringComparison.Ordinal);
        Assert.DoesNotContain("Not mine at all", html, StringComparison.Ordinal);
        // What needs the researcher comes first: the award to answer and the draft, before the rest.
        var order = new[] { awarded.Id, draft.Id, submitted.Id, declined.Id }.Select(id => html.IndexOf($"data-proposal=\"{id}\"", StringComparison.Ordinal)).ToList();
        Assert.True(order[0] < order[2] && order[1] < order[2] && order[2] < order[3], string.Join(", ", order));

        var row = DashboardWorld.Row(html, "data-allocation", allocation.Id.ToString());
        Assert.Contains("11,960", row, StringComparison.Ordinal);
        Assert.Contains("of 12,000", row, StringComparison.Ordinal);
        Assert.Contains("<svg class=\"sparkline\"", row, StringComparison.Ordinal);
        Assert.Contains("40 of 12,000 accelerator-hours used", row, StringComparison.Ordinal);
        Assert.Contains("40 days left", row, StringComparison.Ordinal);

        Assert.Contains("My draft", DashboardWorld.Row(html, "data-invitation", "not.registered@todo.example.edu"), StringComparison.Ordinal);
        Assert.Contains($"href=\"/Proposals/Team/{draft.Id}\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_researcher_is_told_where_to_start()
    {
        await factory.CreateUserAsync("new@todo.example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync("new@todo.example.edu");
        var html = await client.GetPageAsync("/");
        Assert.Contains("You have no proposals yet.", html, StringComparison.Ordinal);
        Assert.Contains("No allocation yet.", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Invitations waiting", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Reviewing", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_dashboards_open_calls_are_the_calls_the_calls_page_lists_including_one_whose_submissions_open_later()
    {
        var now = factory.Clock.GetUtcNow();
        await using (var db = factory.NewDbContext())
        {
            var (later, cluster) = DashboardWorld.NewCall("opens-later", now, closesIn: TimeSpan.FromDays(30), openedAgo: -TimeSpan.FromDays(3));
            db.Clusters.Add(cluster);
            db.Calls.Add(later);
            await db.SaveChangesAsync();
        }
        await factory.CreateUserAsync("counts@todo.example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync("counts@todo.example.edu");

        var listed = await client.GetPageAsync("/Calls");
        Assert.Contains("Call opens-later", listed, StringComparison.Ordinal);
        var onPage = System.Text.RegularExpressions.Regex.Count(listed, "class=\"list-group-item list-group-item-action\"");
        var counted = System.Text.RegularExpressions.Regex.Match(await client.GetPageAsync("/"), "(\\d+) open calls?<").Groups[1].Value;
        Assert.Equal(onPage.ToString(System.Globalization.CultureInfo.InvariantCulture), counted);
    }

    [Fact]
    public async Task A_reviewer_sees_assignments_by_state_and_due_date_and_calls_to_bid_on_but_not_conflicted_proposals()
    {
        var now = factory.Clock.GetUtcNow();
        var admin = await factory.CreateUserAsync("admin@bids.example.org", [Roles.Admin, Roles.Researcher], "Program");
        var pi = await factory.CreateUserAsync("pi@bids.example.edu");
        var reviewer = await factory.CreateUserAsync("reviewer@bids.example.org", [Roles.Reviewer, Roles.Researcher], "Reviewer Institute");
        using var client = new PortalClient(factory);
        await client.SignInAsync(reviewer.Email!);
        Assert.Contains("No reviews assigned to you yet.", await client.GetPageAsync("/"), StringComparison.Ordinal);

        var (call, cluster) = DashboardWorld.NewCall("bids-call", now);
        var (late, lateCluster) = DashboardWorld.NewCall("late-call", now, openedAgo: TimeSpan.FromDays(20));
        Proposal notStarted, drafted, conflicted;
        await using (var db = factory.NewDbContext())
        {
            db.Clusters.AddRange(cluster, lateCluster);
            db.Calls.AddRange(call, late);
            var w = new DashboardWorld(db, call, cluster.Id, pi.Id, admin.Id, now);
            drafted = w.InReview("Assigned, draft saved");
            var review = w.Assign(drafted, reviewer.Id);
            review.SaveDraft(new ReviewContent(new Dictionary<Guid, int?>(), 6, null, new Dictionary<Guid, decimal?>(), "So far so good.", ""),
                new ReviewLimits([call.Rubric[0].Id], new Dictionary<Guid, decimal> { [cluster.Id] = 10_000m }, new Dictionary<Guid, decimal>()), true, now.AddHours(1));
            conflicted = w.InReview("Assigned, then found conflicted", reviewer.Id);
            w.Conflict(conflicted, reviewer.Id);
            var bidOn = w.Submitted("Bid on already");
            w.Submitted("Not bid on yet");
            db.ReviewerPool.Add(ReviewerPoolMember.Create(call.Id, reviewer.Id, 6, now));
            db.ReviewBids.Add(ReviewBid.Place(call.Id, bidOn.Id, reviewer.Id, Bid.Eager, now));
            call.Close(now);
            call.SetReviewDeadline(now.AddDays(7));
            // Another call whose review deadline passed yesterday.
            notStarted = new DashboardWorld(db, late, lateCluster.Id, pi.Id, admin.Id, now).InReview("Assigned, not started", reviewer.Id);
            late.SetReviewDeadline(now.AddDays(-1));
            await db.SaveChangesAsync();
        }

        var html = await client.GetPageAsync("/");
        Assert.Contains("Not started", DashboardWorld.Row(html, "data-review", notStarted.Id.ToString()), StringComparison.Ordinal);
        Assert.Contains("Draft saved", DashboardWorld.Row(html, "data-review", drafted.Id.ToString()), StringComparison.Ordinal);
        Assert.Contains(now.AddDays(7).UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), DashboardWorld.Row(html, "data-review", drafted.Id.ToString()), StringComparison.Ordinal);
        Assert.DoesNotContain(conflicted.Id.ToString(), html, StringComparison.Ordinal);
        Assert.DoesNotContain("then found conflicted", html, StringComparison.Ordinal);
        Assert.Contains("2 to do", html, StringComparison.Ordinal);
        // In the bidding call's pool, three of its four proposals are biddable (the conflicted one is not), one of them bid on.
        Assert.Contains("2 of 3 proposals still without your bid", DashboardWorld.Text(DashboardWorld.Row(html, "data-bidding", "bids-call")), StringComparison.Ordinal);
        Assert.DoesNotContain("data-bidding=\"late-call\"", html, StringComparison.Ordinal);
        // Past its deadline an open review is overdue; one still within it is not.
        Assert.Contains("overdue", DashboardWorld.Row(html, "data-review", notStarted.Id.ToString()), StringComparison.Ordinal);
        Assert.DoesNotContain("overdue", DashboardWorld.Row(html, "data-review", drafted.Id.ToString()), StringComparison.Ordinal);
        // To do first, soonest due first.
        Assert.True(html.IndexOf($"data-review=\"{notStarted.Id}\"", StringComparison.Ordinal) < html.IndexOf($"data-review=\"{drafted.Id}\"", StringComparison.Ordinal));
        await using var check = factory.NewDbContext();
        Assert.Equal(3, await check.Reviews.CountAsync(r => r.ReviewerUserId == reviewer.Id));
    }
}

using System.Net;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Review;

/// <summary>Who reviews what on /Admin/Calls/{slug}/Assignment: manual assignment, automatic runs and applying them.</summary>
public sealed class AssignmentPageTests(CommandCountingPortalFactory factory) : IClassFixture<CommandCountingPortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    [Fact]
    public async Task Automatic_assignment_is_repeatable_excludes_conflicts_respects_loads_and_reports_shortfalls()
    {
        var s = await steps.ClosedCallAsync("auto-call", "lead@delta.example.edu", "Delta University", count: 3);
        foreach (var id in s.Proposals)
        {
            await ReviewSteps.ScreenPassAsync(s, id);
        }
        await steps.ReviewerAsync(s, "light@tokai.example.ac.jp", "Tokai");
        await steps.ReviewerAsync(s, "heavy@north.example.edu", "North");
        await steps.ReviewerAsync(s, "insider@delta.example.edu", "Delta University");
        await using var db = factory.NewDbContext();
        var light = await db.Users.Where(u => u.Email == "light@tokai.example.ac.jp").Select(u => u.Id).SingleAsync();
        using (await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Reviewers", new Dictionary<string, string> { ["keywords"] = "speech", ["maxLoad"] = "2" }, $"/Admin/Calls/{s.Slug}/Reviewers?handler=Profile&userId={light}"))
        {
        }

        async Task<List<(Guid, Guid)>> RunAsync()
        {
            using var run = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Assignment", new Dictionary<string, string> { ["seed"] = "7" }, $"/Admin/Calls/{s.Slug}/Assignment?handler=Run");
            Assert.Equal(HttpStatusCode.Redirect, run.StatusCode);
            await using var check = factory.NewDbContext();
            var latest = await check.AssignmentRuns.Include(r => r.Pairs).Where(r => r.CallId == s.CallId).OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).FirstAsync();
            return [.. latest.Pairs.Select(p => (p.ProposalId, p.ReviewerUserId)).Order()];
        }
        var firstRun = await RunAsync();
        var secondRun = await RunAsync();
        Assert.Equal(firstRun, secondRun);

        var page = await s.Admin.GetPageAsync($"/Admin/Calls/{s.Slug}/Assignment");
        Assert.Contains("Not fully served", page, StringComparison.Ordinal);
        Assert.Contains("needs 2 reviewers", page, StringComparison.Ordinal);

        var runId = await db.AssignmentRuns.Where(r => r.CallId == s.CallId).OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Select(r => r.Id).FirstAsync();
        using (var applied = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Assignment", new Dictionary<string, string>(), $"/Admin/Calls/{s.Slug}/Assignment?handler=Apply&runId={runId}"))
        {
            Assert.Equal(HttpStatusCode.Redirect, applied.StatusCode);
        }
        var reviews = await db.Reviews.Where(r => r.CallId == s.CallId).ToListAsync();
        var insider = await db.Users.Where(u => u.Email == "insider@delta.example.edu").Select(u => u.Id).SingleAsync();
        Assert.Equal(5, reviews.Count);
        Assert.DoesNotContain(reviews, r => r.ReviewerUserId == insider);
        Assert.Equal(2, reviews.Count(r => r.ReviewerUserId == light));
        Assert.All(reviews.GroupBy(r => r.ProposalId), g => Assert.True(g.Count() <= 2));
        Assert.Equal(5, await db.Notifications.CountAsync(n => n.Kind == NotificationKinds.ReviewAssigned && reviews.Select(r => r.ReviewerUserId).Contains(n.UserId)));
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "review.assignment-applied" && a.SubjectId == s.CallId.ToString()));
    }

    /// <summary>A closed call with <paramref name="proposals"/> proposals in review, two reviewers in its pool, and an unapplied automatic run.</summary>
    private async Task<(ReviewSteps.Setup S, Guid RunId, int Pairs, Guid Admin)> ProposedRunAsync(string slug, int proposals)
    {
        var s = await steps.ClosedCallAsync(slug, $"pi@{slug}.example.edu", "Lagoon University", count: proposals);
        foreach (var id in s.Proposals)
        {
            await ReviewSteps.ScreenPassAsync(s, id);
        }
        await steps.ReviewerAsync(s, $"one-{slug}@tokai.example.ac.jp", "Tokai");
        await steps.ReviewerAsync(s, $"two-{slug}@north.example.edu", "North");
        await using var db = factory.NewDbContext();
        var admin = await db.Users.Where(u => u.Email == $"admin-{slug}@example.org").Select(u => u.Id).SingleAsync();
        var run = await factory.WithScopeAsync(sp => sp.GetRequiredService<ReviewAssignments>().RunAsync(s.CallId, 3, admin, default));
        return (s, run.Id, run.Pairs.Count, admin);
    }

    [Fact]
    public async Task Applying_a_run_sends_as_many_sql_commands_for_six_pairs_as_for_two()
    {
        var small = await ProposedRunAsync("apply-small", proposals: 1);
        var large = await ProposedRunAsync("apply-large", proposals: 3);
        Assert.Equal(2, small.Pairs);
        Assert.Equal(6, large.Pairs);

        int[] applied = [0, 0];
        var smallCommands = await factory.Commands.CountAsync(factory, async sp => applied[0] = await sp.GetRequiredService<ReviewAssignments>().ApplyAsync(small.RunId, small.Admin, default));
        var largeCommands = await factory.Commands.CountAsync(factory, async sp => applied[1] = await sp.GetRequiredService<ReviewAssignments>().ApplyAsync(large.RunId, large.Admin, default));

        Assert.Equal([2, 6], applied);
        // Checked, assigned, notified and saved in the same round trips whatever the number of pairs (it was about seven per pair).
        Assert.Equal(smallCommands, largeCommands);
        await using var db = factory.NewDbContext();
        Assert.Equal(6, await db.Reviews.CountAsync(r => r.CallId == large.S.CallId && r.AssignmentRunId == large.RunId));
        var reviewers = await db.Reviews.Where(r => r.CallId == large.S.CallId).Select(r => r.ReviewerUserId).ToListAsync();
        Assert.Equal(6, await db.Notifications.CountAsync(n => n.Kind == NotificationKinds.ReviewAssigned && reviewers.Contains(n.UserId)));
        Assert.All(await db.Proposals.Where(p => p.CallId == large.S.CallId).Include(p => p.History).ToListAsync(),
            p => Assert.Equal(2, p.History.Count(h => h.Reason == "Reviewer assigned")));
    }

    [Fact]
    public async Task Applying_a_run_with_a_pair_conflicted_since_is_refused_and_assigns_nobody()
    {
        var (s, runId, pairs, _) = await ProposedRunAsync("apply-refused", proposals: 1);
        Assert.Equal(2, pairs);
        // After the run, one of its reviewers declares a conflict with the proposal (a conflict bid).
        using var reviewer = new PortalClient(factory);
        await reviewer.SignInAsync("two-apply-refused@north.example.edu");
        using (var bid = await reviewer.PostFormAsync($"/Reviews/{s.Slug}/Bids", new Dictionary<string, string> { ["bid"] = nameof(Bid.Conflict) },
            $"/Reviews/{s.Slug}/Bids?handler=Bid&proposalId={s.Proposals[0]}"))
        {
            Assert.Equal(HttpStatusCode.Redirect, bid.StatusCode);
        }

        using (var refused = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Assignment", new Dictionary<string, string>(), $"/Admin/Calls/{s.Slug}/Assignment?handler=Apply&runId={runId}"))
        {
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            Assert.Contains("has a conflict of interest with", ReviewSteps.ProblemOf(await refused.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        await using var db = factory.NewDbContext();
        Assert.False(await db.Reviews.AnyAsync(r => r.CallId == s.CallId));
        Assert.Null(await db.AssignmentRuns.Where(r => r.Id == runId).Select(r => r.AppliedAt).SingleAsync());
        var pool = await db.ReviewerPool.Where(m => m.CallId == s.CallId).Select(m => m.UserId).ToListAsync();
        Assert.Equal(2, pool.Count);
        Assert.False(await db.Notifications.AnyAsync(n => n.Kind == NotificationKinds.ReviewAssigned && pool.Contains(n.UserId)));
        Assert.Equal(ProposalStatus.InReview, await db.Proposals.Where(p => p.Id == s.Proposals[0]).Select(p => p.Status).SingleAsync());
        Assert.False(await db.AuditEntries.AnyAsync(a => a.Action == "review.assignment-applied" && a.SubjectId == s.CallId.ToString()));
    }
}

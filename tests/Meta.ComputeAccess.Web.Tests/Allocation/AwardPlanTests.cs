using System.Net;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Demo;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Tests.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>
/// One award model: the award plan (/Admin/Calls/{slug}/Plan) starts from the ranking's recorded decisions and default
/// awards, and adopting it records decisions through the ranking's path.
/// </summary>
public sealed partial class AwardPlanTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    [Fact]
    public async Task The_award_plan_and_the_ranking_agree_on_a_call_with_a_capped_request_a_decline_and_a_waitlist()
    {
        var s = await steps.ClosedCallAsync("agree-call", "pi@agree.example.edu", "Agree University", count: 4);
        var (capped, recommended, declined, waitlisted) = (s.Proposals[0], s.Proposals[1], s.Proposals[2], s.Proposals[3]);
        // The first request (10,000 h) is capped at 6,000 h by the technical check.
        using (var screened = await s.Admin.PostFormAsync($"/Admin/Proposals/Screen/{capped}", new Dictionary<string, string>
        {
            ["Input.Eligible"] = "true", ["Input.Technical"] = "Conditional", ["Input.TechnicalNote"] = "The ablations do not need the full request.",
            ["Input.Caps[0].ClusterId"] = s.ClusterId.ToString(), ["Input.Caps[0].Hours"] = "6000",
        }))
        {
            Assert.Equal(HttpStatusCode.Redirect, screened.StatusCode);
        }
        foreach (var id in s.Proposals.Skip(1))
        {
            await ReviewSteps.ScreenPassAsync(s, id);
        }
        var one = await steps.ReviewerAsync(s, "one@agree-tokai.example.ac.jp", "Tokai");
        var two = await steps.ReviewerAsync(s, "two@agree-north.example.edu", "North");
        var hours = new Dictionary<(Guid, PortalClient), string>
        {
            [(capped, one)] = "6000", [(capped, two)] = "6000", [(recommended, one)] = "8000", [(recommended, two)] = "7000",
        };
        foreach (var id in s.Proposals)
        {
            foreach (var (reviewer, email) in new[] { (one, "one@agree-tokai.example.ac.jp"), (two, "two@agree-north.example.edu") })
            {
                await steps.AssignAsync(s, id, email);
                var form = ReviewSteps.CompleteReview(s, "A solid plan with credible numbers.");
                form[$"Input.Hours[{s.ClusterId}]"] = hours.GetValueOrDefault((id, reviewer), "5000");
                using var submitted = await reviewer.PostFormAsync($"/Reviews/Review/{id}", form, $"/Reviews/Review/{id}?handler=Submit");
                Assert.Equal(HttpStatusCode.Redirect, submitted.StatusCode);
            }
        }
        foreach (var (id, decision, message) in new[] { (declined, "Declined", "Out of scope for this call."), (waitlisted, "Waitlisted", "") })
        {
            using var decided = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Ranking",
                new[] { new KeyValuePair<string, string>("ids", id.ToString()), new("decision", decision), new("message", message) }, $"/Admin/Calls/{s.Slug}/Ranking?handler=Decide");
            Assert.Equal(HttpStatusCode.Redirect, decided.StatusCode);
        }
        await using var db = factory.NewDbContext();
        var historyBefore = await db.ProposalHistory.CountAsync(h => h.ProposalId == declined || h.ProposalId == waitlisted);

        var plan = await factory.WithScopeAsync(sp => sp.GetRequiredService<AwardPlanning>().BuildAsync(s.CallId));
        var defaults = await factory.WithScopeAsync(sp => sp.GetRequiredService<ReviewRanking>().DefaultAwardsAsync(s.CallId, [capped, recommended], default));
        PlanLine Line(Guid id) => Assert.Single(plan.Lines, l => l.ProposalId == id);

        // The plan's hours are the ranking's default awards: the median within the cap, never "Full request" below the request.
        Assert.Equal(6_000m, Assert.Single(Line(capped).Hours).Hours);
        Assert.Equal(7_500m, Assert.Single(Line(recommended).Hours).Hours);
        foreach (var id in new[] { capped, recommended })
        {
            Assert.Equal(Assert.Single(defaults[id]).Hours, Assert.Single(Line(id).Hours).Hours);
            Assert.Equal(("As recommended", ProposalDecision.Awarded, false), (Line(id).Label, Line(id).Decision, Line(id).Recorded));
        }
        Assert.Equal("Cluster agree-call: 6,000 h of 10,000 h requested: the technical cap", Line(capped).Why);
        Assert.Equal("Cluster agree-call: 7,500 h of 10,000 h requested: the reviewers' median recommendation", Line(recommended).Why);
        // Recorded decisions stay as they are.
        Assert.Equal((ProposalDecision.Declined, true), (Line(declined).Decision, Line(declined).Recorded));
        Assert.Equal((ProposalDecision.Waitlisted, true), (Line(waitlisted).Decision, Line(waitlisted).Recorded));
        Assert.Equal(13_500m, Assert.Single(plan.Clusters).Planned);

        var page = await s.Admin.GetPageAsync($"/Admin/Calls/{s.Slug}/Plan");
        Assert.Contains("As recommended", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Full request", page, StringComparison.Ordinal);
        var fingerprint = Fingerprint().Match(page).Groups[1].Value;
        Assert.Equal(plan.Fingerprint, fingerprint);

        // A plan that is not the one shown is not adopted.
        using (var stale = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Plan", new Dictionary<string, string> { ["fingerprint"] = "0000" }, $"/Admin/Calls/{s.Slug}/Plan?handler=Adopt"))
        {
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Contains("The plan changed since you opened it", ReviewSteps.ProblemOf(await stale.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        Assert.Equal(2, await db.Proposals.CountAsync(p => s.Proposals.Contains(p.Id) && p.Decision == null));

        using (var adopted = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Plan", new Dictionary<string, string> { ["fingerprint"] = fingerprint }, $"/Admin/Calls/{s.Slug}/Plan?handler=Adopt"))
        {
            Assert.Equal(HttpStatusCode.Redirect, adopted.StatusCode);
        }
        var awards = await db.ProposalAwards.Where(a => s.Proposals.Contains(a.ProposalId)).ToDictionaryAsync(a => a.ProposalId, a => a.Hours);
        Assert.Equal(new Dictionary<Guid, decimal> { [capped] = 6_000m, [recommended] = 7_500m }, awards);
        Assert.Equal(ProposalDecision.Declined, await db.Proposals.Where(p => p.Id == declined).Select(p => p.Decision).SingleAsync());
        Assert.Equal("Out of scope for this call.", await db.Proposals.Where(p => p.Id == declined).Select(p => p.DecisionMessage).SingleAsync());
        Assert.Equal(ProposalDecision.Waitlisted, await db.Proposals.Where(p => p.Id == waitlisted).Select(p => p.Decision).SingleAsync());
        Assert.Equal(historyBefore, await db.ProposalHistory.CountAsync(h => h.ProposalId == declined || h.ProposalId == waitlisted));
        // The ranking shows what the plan recorded.
        var ranked = (await factory.WithScopeAsync(sp => sp.GetRequiredService<ReviewRanking>().BuildAsync(s.CallId, default))).Rows;
        Assert.Equal(6_000m, Assert.Single(ranked, r => r.ProposalId == capped).Hours.Single().Awarded);

        // Adopted once: nothing is left to adopt.
        using var again = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Ranking", new Dictionary<string, string> { ["fingerprint"] = fingerprint }, $"/Admin/Calls/{s.Slug}/Plan?handler=Adopt");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("there is nothing to adopt", ReviewSteps.ProblemOf(await again.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal(2, await db.AuditEntries.CountAsync(a => a.Action == "review.decided" && (a.SubjectId == capped.ToString() || a.SubjectId == recommended.ToString())));
    }

    [Fact]
    public async Task A_decision_recorded_while_the_plan_is_adopted_is_never_overwritten_the_adoption_waits_and_is_refused()
    {
        var s = await steps.ClosedCallAsync("race-call", "pi@race.example.edu", "Race University", count: 2);
        var reviewer = await steps.ReviewerAsync(s, "one@race-tokai.example.ac.jp", "Tokai");
        foreach (var id in s.Proposals)
        {
            await ReviewSteps.ScreenPassAsync(s, id);
            await steps.AssignAsync(s, id, "one@race-tokai.example.ac.jp");
            using var submitted = await reviewer.PostFormAsync($"/Reviews/Review/{id}", ReviewSteps.CompleteReview(s, "A solid plan with credible numbers."),
                $"/Reviews/Review/{id}?handler=Submit");
            Assert.Equal(HttpStatusCode.Redirect, submitted.StatusCode);
        }
        var plan = await factory.WithScopeAsync(sp => sp.GetRequiredService<AwardPlanning>().BuildAsync(s.CallId));
        Assert.Equal(2, plan.Proposed.Count());
        var admin = (await factory.CreateUserAsync("second.admin@race.example.org", [Meta.ComputeAccess.Identity.Roles.Admin], "Program")).Id;

        // Another admin declines the first proposal; their transaction is still open when the plan is adopted.
        using var other = factory.Services.CreateScope();
        var otherDb = other.ServiceProvider.GetRequiredService<Meta.ComputeAccess.Data.PortalDbContext>();
        await using (var otherTransaction = await otherDb.Database.BeginTransactionAsync())
        {
            await other.ServiceProvider.GetRequiredService<ReviewDecisions>().DecideAsync(s.Proposals[0], ProposalDecision.Declined, null, "Out of scope.", admin, default);
            var adopting = factory.WithScopeAsync(sp => sp.GetRequiredService<AwardPlanning>().AdoptAsync(s.CallId, plan.Fingerprint, admin));
            await using (var watch = factory.NewDbContext())
            {
                // The adoption is waiting for the decision's transaction.
                while (!await watch.Database.SqlQuery<bool>($"SELECT EXISTS (SELECT FROM pg_locks WHERE NOT granted) AS \"Value\"").SingleAsync())
                {
                    Assert.False(adopting.IsCompleted, "the adoption did not wait for the decision being recorded");
                    await Task.Delay(20);
                }
            }
            await otherTransaction.CommitAsync();
            var refused = await Assert.ThrowsAsync<DomainException>(() => adopting);
            Assert.Contains("The plan changed since you opened it", refused.Message, StringComparison.Ordinal);
        }

        await using var check = factory.NewDbContext();
        Assert.Equal(ProposalDecision.Declined, await check.Proposals.Where(p => p.Id == s.Proposals[0]).Select(p => p.Decision).SingleAsync());
        Assert.Null(await check.Proposals.Where(p => p.Id == s.Proposals[1]).Select(p => p.Decision).SingleAsync());
    }

    [GeneratedRegex("name=\"fingerprint\" value=\"([0-9A-F]+)\"")]
    private static partial Regex Fingerprint();
}

/// <summary>
/// The award plan of the demo's call. A class (and so a database) of its own: the demo publishes terms of use, which
/// every other user of the same database would then be asked to accept before their next page.
/// </summary>
public sealed class AwardPlanDemoTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task On_the_demo_call_the_plan_explains_each_line_and_stays_within_what_is_left()
    {
        Assert.True(await factory.WithScopeAsync(sp => sp.GetRequiredService<DemoSeeder>().SeedAsync()));
        await using var db = factory.NewDbContext();
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Slug == ReviewDemoSeed.CallSlug);

        var plan = await factory.WithScopeAsync(sp => sp.GetRequiredService<AwardPlanning>().BuildAsync(call.Id));
        Assert.NotEmpty(plan.Proposed);
        Assert.Null(plan.Problem);
        Assert.All(plan.Lines, l => Assert.False(string.IsNullOrWhiteSpace(l.Why)));
        Assert.Equal(plan.Lines.Select(l => l.Rank).Order(), plan.Lines.Select(l => l.Rank));
        Assert.All(plan.Clusters, c => Assert.True(c.Planned <= c.Available && c.Available <= c.Budget - c.Recorded, $"{c.Name} planned over what is left"));
        // "Full request" only when it is.
        Assert.All(plan.Lines.Where(l => l.Label == "Full request"), l => Assert.All(l.Hours, h => Assert.Equal(h.Requested, h.Hours)));
        var again = await factory.WithScopeAsync(sp => sp.GetRequiredService<AwardPlanning>().BuildAsync(call.Id));
        Assert.Equal(plan.Fingerprint, again.Fingerprint);
    }
}

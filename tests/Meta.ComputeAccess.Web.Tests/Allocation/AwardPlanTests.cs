using System.Net;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Demo;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>The award planner over a real call's ranking (the demo call in review), shown to admins and adopted as decisions.</summary>
public sealed class AwardPlanTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task The_plan_explains_each_line_stays_within_what_is_left_and_is_adopted_as_unreleased_decisions()
    {
        Assert.True(await factory.WithScopeAsync(sp => sp.GetRequiredService<DemoSeeder>().SeedAsync()));
        await using var db = factory.NewDbContext();
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Slug == ReviewDemoSeed.CallSlug);
        var admin = await db.Users.Where(u => u.Email == "admin@example.org").Select(u => u.Id).SingleAsync();

        var plan = await factory.WithScopeAsync(sp => sp.GetRequiredService<AwardPlanning>().BuildAsync(call.Id));
        Assert.NotEmpty(plan.Lines);
        Assert.Null(plan.Problem);
        Assert.All(plan.Lines, l => Assert.False(string.IsNullOrWhiteSpace(l.Award.Explanation)));
        Assert.Equal(plan.Lines.Select(l => l.Calibrated).OrderDescending(), plan.Lines.Select(l => l.Calibrated));
        Assert.All(plan.Plan.Clusters, c => Assert.True(c.AwardedHours <= c.AvailableHours, $"{c.Name} planned over what is left"));
        var again = await factory.WithScopeAsync(sp => sp.GetRequiredService<AwardPlanning>().BuildAsync(call.Id));
        Assert.Equal(plan.Lines.Select(l => (l.ProposalId, l.Award.Outcome, l.Award.Explanation)), again.Lines.Select(l => (l.ProposalId, l.Award.Outcome, l.Award.Explanation)));

        using var client = new PortalClient(factory);
        await client.SignInAsync("admin@example.org", DemoSeeder.Password);
        var page = await client.GetPageAsync($"/Admin/Calls/{call.Slug}/Plan");
        Assert.Contains(System.Net.WebUtility.HtmlEncode(plan.Lines[0].Award.Explanation), page, StringComparison.Ordinal);
        // The demo leaves a screening near-match on one of the call's PIs: its award is held until compliance clears it.
        using (var held = await client.PostFormAsync($"/Admin/Calls/{call.Slug}/Plan", new Dictionary<string, string>(), $"/Admin/Calls/{call.Slug}/Plan?handler=Adopt"))
        {
            Assert.Equal(HttpStatusCode.OK, held.StatusCode);
            Assert.Contains("compliance screening holds", System.Net.WebUtility.HtmlDecode(await held.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        var officer = await db.Users.Where(u => u.Email == "sofia.lindqvist@example.org").Select(u => u.Id).SingleAsync();
        foreach (var hit in await db.ComplianceHits.Where(h => h.Status == Meta.ComputeAccess.Compliance.ComplianceHitStatus.Open).Select(h => h.Id).ToListAsync())
        {
            await factory.WithScopeAsync(sp => sp.GetRequiredService<Meta.ComputeAccess.Compliance.ComplianceQueue>().ClearAsync(hit, "Different person from the listed party.", officer, default));
        }
        using (var adopted = await client.PostFormAsync($"/Admin/Calls/{call.Slug}/Plan", new Dictionary<string, string>(), $"/Admin/Calls/{call.Slug}/Plan?handler=Adopt"))
        {
            Assert.Equal(HttpStatusCode.Redirect, adopted.StatusCode);
        }

        foreach (var line in plan.Lines)
        {
            var proposal = await db.Proposals.Include(p => p.Awards).AsNoTracking().SingleAsync(p => p.Id == line.ProposalId);
            Assert.Equal(ProposalStatus.Decided, proposal.Status);
            Assert.Null(proposal.DecisionReleasedAt);
            if (line.Award.Outcome == AwardOutcome.Waitlisted)
            {
                Assert.Equal(ProposalDecision.Waitlisted, proposal.Decision);
            }
            else
            {
                Assert.Equal(ProposalDecision.Awarded, proposal.Decision);
                Assert.Equal(line.Award.Clusters.Sum(c => c.AwardedHours), proposal.Awards.Sum(a => a.Hours));
            }
        }
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "review.decided" && a.ActorUserId == admin));
    }
}

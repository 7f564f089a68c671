using System.Net;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Review;

/// <summary>Decisions in bulk on the ranking page /Admin/Calls/{slug}/Ranking.</summary>
public sealed class RankingPageTests(CommandCountingPortalFactory factory) : IClassFixture<CommandCountingPortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    [Fact]
    public async Task Deciding_proposals_in_bulk_sends_as_many_sql_commands_for_three_as_for_one()
    {
        var s = await steps.ClosedCallAsync("bulk-call", "many@reef.example.edu", "Reef University", count: 4);
        foreach (var id in s.Proposals)
        {
            await ReviewSteps.ScreenPassAsync(s, id);
        }
        await using var db = factory.NewDbContext();
        var admin = await db.Users.Where(u => u.Email == "admin-bulk-call@example.org").Select(u => u.Id).SingleAsync();

        async Task<int> DecideAsync(params Guid[] ids) =>
            await factory.Commands.CountAsync(factory, sp => sp.GetRequiredService<ReviewDecisions>().DecideManyAsync(s.CallId, ids, ProposalDecision.Awarded, "", admin, default));
        var one = await DecideAsync(s.Proposals[0]);
        var three = await DecideAsync(s.Proposals[1], s.Proposals[2], s.Proposals[3]);

        // The default awards are worked out once for the selection, not once per proposal (the whole ranking was rebuilt for each).
        Assert.Equal(one, three);
        var awards = await db.ProposalAwards.Where(a => s.Proposals.Contains(a.ProposalId)).ToListAsync();
        Assert.Equal(4, awards.Count);
        // No reviews yet: the default is the full request.
        Assert.All(awards, a => Assert.Equal(10_000m, a.Hours));
        Assert.Equal(4, await db.Proposals.CountAsync(p => s.Proposals.Contains(p.Id) && p.Status == ProposalStatus.Decided && p.Decision == ProposalDecision.Awarded));
        Assert.Equal(4, await db.AuditEntries.CountAsync(a => a.Action == "review.decided" && s.Proposals.Select(id => id.ToString()).Contains(a.SubjectId)));
    }

    [Fact]
    public async Task A_refused_bulk_decision_is_shown_on_the_ranking_page_and_records_nothing()
    {
        var s = await steps.ClosedCallAsync("bulk-refused", "refused@reef.example.edu", "Reef University", count: 2);
        foreach (var id in s.Proposals)
        {
            await ReviewSteps.ScreenPassAsync(s, id);
        }
        // A decline needs a message: the second proposal's refusal undoes the first's decision too.
        using (var refused = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Ranking",
            new[] { new KeyValuePair<string, string>("ids", s.Proposals[0].ToString()), new("ids", s.Proposals[1].ToString()), new("decision", "Declined"), new("message", "") },
            $"/Admin/Calls/{s.Slug}/Ranking?handler=Decide"))
        {
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            Assert.Contains("A decline needs a message to the applicants.", ReviewSteps.ProblemOf(await refused.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        using (var none = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Ranking", new Dictionary<string, string> { ["decision"] = "Waitlisted" }, $"/Admin/Calls/{s.Slug}/Ranking?handler=Decide"))
        {
            Assert.Equal(HttpStatusCode.OK, none.StatusCode);
            Assert.Contains("Select at least one proposal", ReviewSteps.ProblemOf(await none.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        await using var db = factory.NewDbContext();
        Assert.All(await db.Proposals.Where(p => s.Proposals.Contains(p.Id)).Select(p => p.Status).ToListAsync(), status => Assert.Equal(ProposalStatus.InReview, status));

        using (var waitlisted = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Ranking",
            new[] { new KeyValuePair<string, string>("ids", s.Proposals[1].ToString()), new("decision", "Waitlisted"), new("message", "") },
            $"/Admin/Calls/{s.Slug}/Ranking?handler=Decide"))
        {
            Assert.Equal(HttpStatusCode.Redirect, waitlisted.StatusCode);
        }
        Assert.Equal(ProposalDecision.Waitlisted, await db.Proposals.Where(p => p.Id == s.Proposals[1]).Select(p => p.Decision).SingleAsync());
    }
}

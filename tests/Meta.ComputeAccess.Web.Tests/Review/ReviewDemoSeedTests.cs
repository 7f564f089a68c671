using Meta.ComputeAccess.Demo;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Review;

public sealed class ReviewDemoSeedTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task The_demo_has_a_call_in_review_with_bids_reviews_and_detected_conflicts_and_can_be_auto_assigned()
    {
        Assert.True(await factory.WithScopeAsync(sp => sp.GetRequiredService<DemoSeeder>().SeedAsync()));
        await using var db = factory.NewDbContext();
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Slug == ReviewDemoSeed.CallSlug);
        var statuses = await db.Proposals.Where(p => p.CallId == call.Id).Select(p => p.Status).ToListAsync();
        Assert.Contains(ProposalStatus.ReviewsComplete, statuses);
        Assert.Contains(ProposalStatus.InReview, statuses);
        Assert.Equal(2, statuses.Count(s => s == ProposalStatus.Submitted));
        Assert.True(await db.ReviewBids.CountAsync(b => b.CallId == call.Id) >= 6);
        Assert.Equal(3, await db.Reviews.CountAsync(r => r.CallId == call.Id && r.SubmittedAt != null));

        var people = await db.Users.ToDictionaryAsync(u => u.Email!, u => u.Id);
        var conflicts = await db.ReviewConflicts.Where(c => c.CallId == call.Id).ToListAsync();
        Assert.Contains(conflicts, c => c.ReviewerUserId == people["ines.duarte@lakeside.example.edu"] && c.Source == ConflictSource.SameInstitution);
        // The demo reviewers at Northfield and Tokai have no conflict with anyone (example.edu is not one institution).
        Assert.DoesNotContain(conflicts, c => c.ReviewerUserId == people["rosa.martinez@northfield.example.edu"] || c.ReviewerUserId == people["kenji.watanabe@tokai.example.ac.jp"]);

        // Screen the two waiting proposals and auto-assign: both get the demo reviewers.
        var admin = people["admin@example.org"];
        var waiting = await db.Proposals.Where(p => p.CallId == call.Id && p.Status == ProposalStatus.Submitted).Select(p => p.Id).ToListAsync();
        await factory.WithScopeAsync(async sp =>
        {
            var screening = sp.GetRequiredService<ScreeningService>();
            foreach (var id in waiting)
            {
                await screening.ScreenAsync(id, new ScreeningInput(true, "", TechnicalCheck.Pass, "", new Dictionary<Guid, decimal>()), admin, default);
            }
            var assignments = sp.GetRequiredService<ReviewAssignments>();
            var run = await assignments.RunAsync(call.Id, 1, admin, default);
            Assert.Equal(4, run.Pairs.Count);
            Assert.Equal(4, await assignments.ApplyAsync(run.Id, admin, default));
        });
        foreach (var id in waiting)
        {
            var reviewers = await db.Reviews.Where(r => r.ProposalId == id).Select(r => r.ReviewerUserId).ToListAsync();
            Assert.Equal([people["kenji.watanabe@tokai.example.ac.jp"], people["rosa.martinez@northfield.example.edu"]], reviewers.OrderBy(r => r == people["rosa.martinez@northfield.example.edu"]));
        }
    }
}

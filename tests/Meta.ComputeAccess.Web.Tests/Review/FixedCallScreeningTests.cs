using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Tests.Dashboard;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Review;

/// <summary>A fixed-deadline call's proposals are screened together, once the call has closed; never one by one while it takes drafts.</summary>
public sealed class FixedCallScreeningTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task A_fixed_calls_proposal_is_screened_only_after_the_call_closes_and_a_refusal_changes_nothing()
    {
        var now = factory.Clock.GetUtcNow();
        var pi = await factory.CreateUserAsync("pi@fixed-screening.example.edu", institution: "Fixed University");
        var admin = await factory.CreateUserAsync("admin@fixed-screening.example.org", [Roles.Admin, Roles.Researcher], "Program");
        var (call, cluster) = DashboardWorld.NewCall("fixed-screening", now, closesIn: TimeSpan.FromDays(1));
        Guid id;
        await using (var db = factory.NewDbContext())
        {
            db.Clusters.Add(cluster);
            db.Calls.Add(call);
            id = new DashboardWorld(db, call, cluster.Id, pi.Id, admin.Id, now).Submitted("Screened after the deadline").Id;
            await db.SaveChangesAsync();
        }
        var pass = new ScreeningInput(true, "", TechnicalCheck.Pass, "", new Dictionary<Guid, decimal>());

        var refused = await Assert.ThrowsAsync<DomainException>(() => factory.WithScopeAsync(sp => sp.GetRequiredService<ScreeningService>().ScreenAsync(id, pass, admin.Id, default)));
        Assert.Equal("Proposals of a fixed-deadline call are screened after the call closes.", refused.Message);
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(ProposalStatus.Submitted, await db.Proposals.Where(p => p.Id == id).Select(p => p.Status).SingleAsync());
        }

        factory.Clock.Advance(call.ClosesAt!.Value - factory.Clock.GetUtcNow());
        await factory.WithScopeAsync(sp => sp.GetRequiredService<ScreeningService>().ScreenAsync(id, pass, admin.Id, default));
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(ProposalStatus.InReview, await db.Proposals.Where(p => p.Id == id).Select(p => p.Status).SingleAsync());
        }
    }
}

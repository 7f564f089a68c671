using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Review;

/// <summary>A fixed-deadline call's proposals are screened together, once the call has closed; never one by one while it takes drafts.</summary>
public sealed class FixedCallScreeningTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task A_fixed_calls_proposal_is_screened_only_after_the_call_closes_and_a_refusal_changes_nothing()
    {
        var open = await factory.CreateOpenCallAsync("fixed-screening", closesIn: TimeSpan.FromDays(1));
        var pi = await factory.CreateUserAsync("pi@fixed-screening.example.edu", institution: "Fixed University");
        var admin = await factory.CreateUserAsync("admin@fixed-screening.example.org", [Roles.Admin, Roles.Researcher], "Program");
        var now = factory.Clock.GetUtcNow();
        Guid id;
        await using (var db = factory.NewDbContext())
        {
            var call = await db.Calls.SingleAsync(c => c.Id == open.Id);
            var p = Proposal.StartDraft(call, pi.Id, "Screened after the deadline", now);
            p.UpdateDraft(new ProposalContent(p.Title, new string('a', 120) + " abstract", ["speech"], "Speech and audio", new string('j', 120),
                false, "", false, "", "Apache-2.0", PlannedOutputs.Code, "", [new RequestedHours(open.ClusterId, 10_000m, 5_000m)], false, ""), call, now);
            p.Submit(call, pi.Id, now);
            db.Proposals.Add(p);
            await db.SaveChangesAsync();
            id = p.Id;
        }
        var pass = new ScreeningInput(true, "", TechnicalCheck.Pass, "", new Dictionary<Guid, decimal>());

        var refused = await Assert.ThrowsAsync<DomainException>(() => factory.WithScopeAsync(sp => sp.GetRequiredService<ScreeningService>().ScreenAsync(id, pass, admin.Id, default)));
        Assert.Equal("Proposals of a fixed-deadline call are screened after the call closes.", refused.Message);
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(ProposalStatus.Submitted, await db.Proposals.Where(p => p.Id == id).Select(p => p.Status).SingleAsync());
        }

        factory.Clock.Advance(open.ClosesAt - factory.Clock.GetUtcNow());
        await factory.WithScopeAsync(sp => sp.GetRequiredService<ScreeningService>().ScreenAsync(id, pass, admin.Id, default));
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(ProposalStatus.InReview, await db.Proposals.Where(p => p.Id == id).Select(p => p.Status).SingleAsync());
        }
    }
}

using System.Net;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Review;

/// <summary>Decisions on /Admin/Proposals/Decide/{id} and the ranking page, their release, and the PI's answer to an award.</summary>
public sealed class DecisionTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    [Fact]
    public async Task Decisions_stay_hidden_until_release_and_then_the_pi_accepts_the_award()
    {
        var (s, id) = await steps.AwardedAsync("decide-call", "winner@ocean.example.edu", "Ocean University");

        using var pi = new PortalClient(factory);
        await pi.SignInAsync("winner@ocean.example.edu");
        var hidden = await pi.GetPageAsync($"/Proposals/Details/{id}");
        Assert.DoesNotContain("Decision:", hidden, StringComparison.Ordinal);
        Assert.DoesNotContain("Congratulations", hidden, StringComparison.Ordinal);
        Assert.DoesNotContain("excellent plan", hidden, StringComparison.Ordinal);
        Assert.DoesNotContain("Accept award", hidden, StringComparison.Ordinal);

        await ReviewSteps.ReleaseAsync(s);
        var shown = await pi.GetPageAsync($"/Proposals/Details/{id}");
        Assert.Contains("Decision: awarded", shown, StringComparison.Ordinal);
        Assert.Contains("8,000 accelerator-hours", shown, StringComparison.Ordinal);
        Assert.Contains("excellent plan", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("one@tokai", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("confidential note", shown, StringComparison.Ordinal);

        using (var accepted = await pi.PostFormAsync($"/Proposals/Details/{id}", new Dictionary<string, string>(), $"/Proposals/Details/{id}?handler=Accept"))
        {
            Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        }
        await using var db = factory.NewDbContext();
        var proposal = await db.Proposals.Include(p => p.History).AsNoTracking().SingleAsync(p => p.Id == id);
        Assert.Equal(AwardResponse.Accepted, proposal.AwardResponse);
        Assert.Contains(proposal.History, h => h.Reason == "Award accepted");
        // Acceptance hands the award to the allocation module: an active allocation with the awarded hours, granted in the ledger.
        var allocation = await db.Allocations.Include(a => a.Quotas).AsNoTracking().SingleAsync(a => a.ProposalId == id);
        Assert.Equal(proposal.PiUserId, allocation.PiUserId);
        Assert.Equal(8_000m, allocation.Quotas.Sum(q => q.GrantedHours));
        Assert.Equal(8_000m, await db.LedgerEntries.Where(e => e.AllocationId == allocation.Id).SumAsync(e => e.Hours));
        Assert.Equal(CallStatus.Decided, await db.Calls.Where(c => c.Id == s.CallId).Select(c => c.Status).SingleAsync());
        Assert.True(await db.Notifications.AnyAsync(n => n.Kind == NotificationKinds.DecisionReleased && n.UserId == proposal.PiUserId));
        Assert.True(await db.Notifications.AnyAsync(n => n.Kind == NotificationKinds.AwardAccepted && n.UserId == proposal.PiUserId));
        // Once answered, the award cannot be answered again.
        using var again = await pi.PostFormAsync($"/Proposals/Details/{id}", new Dictionary<string, string>(), $"/Proposals/Details/{id}?handler=DeclineAward");
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.Contains("The award was already accepted.", await pi.GetPageAsync($"/Proposals/Details/{id}"), StringComparison.Ordinal);
        Assert.Equal(AwardResponse.Accepted, await db.Proposals.Where(p => p.Id == id).Select(p => p.AwardResponse).SingleAsync());
    }

    [Fact]
    public async Task A_declined_award_creates_no_allocation_and_tells_the_admins()
    {
        var (s, id) = await steps.AwardedAsync("decline-call", "decliner@ocean.example.edu", "Ocean University", reviewerPrefix: "d-");
        await ReviewSteps.ReleaseAsync(s);
        using var pi = new PortalClient(factory);
        await pi.SignInAsync("decliner@ocean.example.edu");
        using (var declined = await pi.PostFormAsync($"/Proposals/Details/{id}", new Dictionary<string, string>(), $"/Proposals/Details/{id}?handler=DeclineAward"))
        {
            Assert.Equal(HttpStatusCode.Redirect, declined.StatusCode);
        }
        await using var db = factory.NewDbContext();
        Assert.Equal(AwardResponse.Declined, await db.Proposals.Where(p => p.Id == id).Select(p => p.AwardResponse).SingleAsync());
        Assert.False(await db.Allocations.AnyAsync(a => a.ProposalId == id));
        var admins = await db.UserRoles.Join(db.Roles.Where(r => r.Name == Identity.Roles.Admin), ur => ur.RoleId, r => r.Id, (ur, r) => ur.UserId).ToListAsync();
        var notices = await db.Notifications.Where(n => n.Kind == NotificationKinds.AwardDeclined).ToListAsync();
        Assert.NotEmpty(admins);
        Assert.Equal(admins.Order(), notices.Select(n => n.UserId).Order());
        Assert.All(notices, n => Assert.Contains(id.ToString(), n.Link, StringComparison.Ordinal));
    }
}

using System.Net;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Tests.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>Advances ahead of an expected renewal: capped, deducted from the renewal's grant (award or the account's next allocation), or a debt if the renewal fails.</summary>
public sealed class AdvanceTests(PortalFactory factory) : LedgerInvariantTests(factory), IClassFixture<PortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    /// <summary>The renewal's PI's current allocation: 1,000 hours on the renewal's cluster, in a period of its own.</summary>
    private async Task<Meta.ComputeAccess.Allocations.Allocation> CurrentAllocationAsync(ReviewSteps.Setup s, Guid renewal, string account)
    {
        await using var db = Factory.NewDbContext();
        var pi = await db.Proposals.Where(p => p.Id == renewal).Select(p => p.PiUserId).SingleAsync();
        var today = Factory.Today();
        var period = AllocationPeriod.Create("Current " + account, today.AddDays(-60), today.AddDays(20), Factory.Clock.GetUtcNow());
        db.AllocationPeriods.Add(period);
        db.ClusterCapacities.Add(ClusterCapacity.Create(s.ClusterId, period.Id, 100_000m, 1m, 0m, Factory.Clock.GetUtcNow()));
        await db.SaveChangesAsync();
        return await Factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CreateAsync(
            new NewAllocation(period.Id, pi, "Current work", today.AddDays(-50), today.AddDays(10), new Dictionary<Guid, decimal> { [s.ClusterId] = 1_000m }, SlurmAccount: account), null));
    }

    private async Task<Guid> AdminIdAsync(ReviewSteps.Setup s)
    {
        await using var db = Factory.NewDbContext();
        return await db.Users.Where(u => u.Email == "admin-" + s.Slug + "@example.org").Select(u => u.Id).SingleAsync();
    }

    private Task<AllocationAdvance> AdvanceAsync(Guid allocation, Guid renewal, Guid cluster, decimal hours, Guid admin) =>
        Factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().AdvanceAsync(allocation, renewal, cluster, hours, "Work must not stop before the decision", admin));

    /// <summary>Releases the call's decisions and has the PI answer the award of <paramref name="proposal"/> on its page (<c>Accept</c> or <c>DeclineAward</c>).</summary>
    private async Task AnswerAwardAsync(ReviewSteps.Setup s, string piEmail, Guid proposal, string handler)
    {
        await ReviewSteps.ReleaseAsync(s);
        using var pi = new PortalClient(Factory);
        await pi.SignInAsync(piEmail);
        using var answered = await pi.PostFormAsync($"/Proposals/Details/{proposal}", new Dictionary<string, string>(), $"/Proposals/Details/{proposal}?handler={handler}");
        Assert.Equal(HttpStatusCode.Redirect, answered.StatusCode);
    }

    [Fact]
    public async Task An_advance_before_the_decision_is_deducted_from_the_accepted_award()
    {
        var (s, renewal) = await steps.AwardedAsync("advance-call", "advance.pi@ocean.example.edu", "Ocean University", reviewerPrefix: "adv-");
        var current = await CurrentAllocationAsync(s, renewal, "advance-now");
        var admin = await AdminIdAsync(s);

        // The renewal asks for 10,000 hours: at most 25 % may be advanced, all advances together.
        await AdvanceAsync(current.Id, renewal, s.ClusterId, 2_000m, admin);
        var over = await Assert.ThrowsAsync<DomainException>(() => AdvanceAsync(current.Id, renewal, s.ClusterId, 600m, admin));
        Assert.Contains("At most 2,500 hours may be advanced", over.Message, StringComparison.Ordinal);
        await using (var db = Factory.NewDbContext())
        {
            Assert.Equal(3_000m, await db.AllocationQuotas.Where(q => q.AllocationId == current.Id).Select(q => q.GrantedHours).SingleAsync());
            Assert.Equal(AdvanceStatus.Outstanding, Assert.Single(await AdvanceLine.ListAsync(db, current.Id)).Status);
        }

        await AnswerAwardAsync(s, "advance.pi@ocean.example.edu", renewal, "Accept");

        await using var check = Factory.NewDbContext();
        var award = await check.Allocations.AsNoTracking().SingleAsync(a => a.ProposalId == renewal);
        // The award renews the advanced account (free from the award's start): the cluster resets its usage once and runs the new grant.
        Assert.Equal("advance-now", award.SlurmAccount);
        var entries = await check.LedgerEntries.AsNoTracking().Where(e => e.AllocationId == award.Id).OrderBy(e => e.Id).ToListAsync();
        Assert.Equal([(LedgerEntryKind.Grant, 8_000m), (LedgerEntryKind.AdvanceDeduction, -2_000m)], entries.Select(e => (e.Kind, e.Hours)).ToArray());
        Assert.Contains("deducted", entries[1].Cause, StringComparison.Ordinal);
        Assert.Equal(6_000m, await check.AllocationQuotas.Where(q => q.AllocationId == award.Id).Select(q => q.GrantedHours).SingleAsync());
        Assert.Equal(AdvanceStatus.Deducted, Assert.Single(await AdvanceLine.ListAsync(check, current.Id)).Status);
    }

    [Fact]
    public async Task An_advance_against_a_renewal_whose_award_is_declined_becomes_a_debt_shown_to_admins()
    {
        var (s, renewal) = await steps.AwardedAsync("debt-call", "debt.pi@ocean.example.edu", "Ocean University", reviewerPrefix: "debt-");
        var current = await CurrentAllocationAsync(s, renewal, "debt-now");
        var admin = await AdminIdAsync(s);
        using (var advanced = await s.Admin.PostFormAsync($"/Admin/Allocations/Details?id={current.Id}", new Dictionary<string, string>
        {
            ["proposalId"] = renewal.ToString(), ["clusterId"] = s.ClusterId.ToString(), ["hours"] = "500", ["reason"] = "Keep the pipeline running",
        }, $"/Admin/Allocations/Details?id={current.Id}&handler=Advance"))
        {
            Assert.Equal(HttpStatusCode.Redirect, advanced.StatusCode);
        }

        await AnswerAwardAsync(s, "debt.pi@ocean.example.edu", renewal, "DeclineAward");

        var page = await s.Admin.GetPageAsync("/Admin/Allocations/Advances");
        Assert.Contains("1 advance(s) are debts: 500 hours not paid back.", page, StringComparison.Ordinal);
        // Once decided, no more advances against it.
        var late = await Assert.ThrowsAsync<DomainException>(() => AdvanceAsync(current.Id, renewal, s.ClusterId, 10m, admin));
        Assert.Contains("not released yet", late.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_accounts_next_allocation_made_by_an_admin_is_the_renewal_and_pays_the_advance_back_once()
    {
        var (s, renewal) = await steps.AwardedAsync("byhand-call", "byhand.pi@ocean.example.edu", "Ocean University", reviewerPrefix: "hand-");
        var current = await CurrentAllocationAsync(s, renewal, "byhand-now");
        var admin = await AdminIdAsync(s);
        await AdvanceAsync(current.Id, renewal, s.ClusterId, 300m, admin);

        // The renewal by hand: the account's next allocation, the day after the current one ends.
        var start = current.EndDate.AddDays(1);
        var next = await Factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CreateAsync(
            new NewAllocation(current.PeriodId, current.PiUserId, "Renewed work", start, start.AddDays(30), new Dictionary<Guid, decimal> { [s.ClusterId] = 1_000m }, SlurmAccount: "byhand-now"), admin));

        await using (var db = Factory.NewDbContext())
        {
            var entries = await db.LedgerEntries.AsNoTracking().Where(e => e.AllocationId == next.Id).OrderBy(e => e.Id).ToListAsync();
            Assert.Equal([(LedgerEntryKind.Grant, 1_000m), (LedgerEntryKind.AdvanceDeduction, -300m)], entries.Select(e => (e.Kind, e.Hours)).ToArray());
            Assert.Contains("ahead of this renewal", entries[1].Cause, StringComparison.Ordinal);
            Assert.Equal(700m, await db.AllocationQuotas.Where(q => q.AllocationId == next.Id).Select(q => q.GrantedHours).SingleAsync());
            Assert.Equal(AdvanceStatus.Deducted, Assert.Single(await AdvanceLine.ListAsync(db, current.Id)).Status);
        }

        // The proposal's award, accepted later, finds nothing left to take back (and gets an account of its own: the old one is held).
        await AnswerAwardAsync(s, "byhand.pi@ocean.example.edu", renewal, "Accept");
        await using var check = Factory.NewDbContext();
        var award = await check.Allocations.AsNoTracking().SingleAsync(a => a.ProposalId == renewal);
        Assert.NotEqual("byhand-now", award.SlurmAccount);
        Assert.False(await check.LedgerEntries.AnyAsync(e => e.AllocationId == award.Id && e.Kind == LedgerEntryKind.AdvanceDeduction));
    }

    [Fact]
    public async Task An_advance_for_another_pis_proposal_is_refused_and_changes_nothing()
    {
        var (s, renewal) = await steps.AwardedAsync("stranger-call", "owner.pi@ocean.example.edu", "Ocean University", reviewerPrefix: "str-");
        var stranger = await Factory.CreateUserAsync("stranger.pi@example.edu");
        var admin = await AdminIdAsync(s);
        await using var db = Factory.NewDbContext();
        var start = Factory.Today().AddMonths(1);
        var period = await db.AllocationPeriods.Where(p => p.StartDate <= start && p.EndDate >= start).OrderBy(p => p.StartDate).FirstAsync();
        var theirs = await Factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CreateAsync(
            new NewAllocation(period.Id, stranger.Id, "Someone else", start, start.AddMonths(2), new Dictionary<Guid, decimal> { [s.ClusterId] = 100m }, SlurmAccount: "stranger"), null));

        await Assert.ThrowsAsync<DomainException>(() => AdvanceAsync(theirs.Id, renewal, s.ClusterId, 10m, admin));
        Assert.False(await db.AllocationAdvances.AnyAsync(a => a.AllocationId == theirs.Id));
        Assert.Equal(100m, await db.AllocationQuotas.Where(q => q.AllocationId == theirs.Id).Select(q => q.GrantedHours).SingleAsync());
    }
}

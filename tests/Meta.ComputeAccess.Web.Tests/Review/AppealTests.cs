using System.Net;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Review;

/// <summary>Appeals of released decisions: /Proposals/Appeal/{id} files one, /Admin/Appeals lists them, /Admin/Appeals/Decide/{id} decides.</summary>
public sealed class AppealTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    private static Task<HttpResponseMessage> FileAsync(PortalClient pi, Guid id, string reason) =>
        pi.PostFormAsync($"/Proposals/Appeal/{id}", new Dictionary<string, string> { ["Reason"] = reason });

    private static Task<HttpResponseMessage> DecideAsync(ReviewSteps.Setup s, Guid id, Dictionary<string, string> fields) =>
        s.Admin.PostFormAsync($"/Admin/Appeals/Decide/{id}", fields);

    [Fact]
    public async Task A_team_appeals_a_released_decision_once_and_the_admin_decides_it_once_with_a_reason()
    {
        var (s, id) = await steps.AwardedAsync("appeal-call", "appellant@ocean.example.edu", "Ocean University", reviewerPrefix: "a-");
        using var pi = new PortalClient(factory);
        await pi.SignInAsync("appellant@ocean.example.edu");

        // Not before release.
        Assert.Contains("once it is released", await pi.GetPageAsync($"/Proposals/Appeal/{id}"), StringComparison.Ordinal);
        using (var early = await FileAsync(pi, id, "We need more hours for the ablations."))
        {
            Assert.Equal(HttpStatusCode.OK, early.StatusCode);
        }
        await ReviewSteps.AssertNotFoundAsync(s.Admin, $"/Admin/Appeals/Decide/{id}");
        await ReviewSteps.ReleaseAsync(s);

        using (var blank = await FileAsync(pi, id, "   "))
        {
            Assert.Equal(HttpStatusCode.OK, blank.StatusCode);
            Assert.Contains("Give a reason", await blank.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var filed = await FileAsync(pi, id, "The award of 8,000 hours cannot cover the second training run the reviewers praised."))
        {
            Assert.Equal(HttpStatusCode.Redirect, filed.StatusCode);
        }
        using (var again = await FileAsync(pi, id, "And once more, with feeling."))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Contains("a decision is appealed once", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using var other = new PortalClient(factory);
        await factory.CreateUserAsync("bystander@ocean.example.edu");
        await other.SignInAsync("bystander@ocean.example.edu");
        await ReviewSteps.AssertNotFoundAsync(other, $"/Proposals/Appeal/{id}");

        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(1, await db.DecisionAppeals.CountAsync(a => a.ProposalId == id));
            var admins = await db.UserRoles.Join(db.Roles.Where(r => r.Name == Roles.Admin), ur => ur.RoleId, r => r.Id, (ur, r) => ur.UserId).ToListAsync();
            Assert.Equal(admins.Order(), (await db.Notifications.Where(n => n.Kind == NotificationKinds.AppealFiled).Select(n => n.UserId).ToListAsync()).Order());
        }

        // The admins' queue shows it waiting; deciding needs an outcome and a reason, and happens once.
        var queue = await s.Admin.GetPageAsync("/Admin/Appeals");
        Assert.Contains("Proposal 1 of appeal-call", queue, StringComparison.Ordinal);
        Assert.Contains("1 appeal waiting", queue, StringComparison.Ordinal);
        Assert.Contains("cannot cover the second training run", await s.Admin.GetPageAsync($"/Admin/Appeals/Decide/{id}"), StringComparison.Ordinal);
        using (var noOutcome = await DecideAsync(s, id, new() { ["Reason"] = "Budget is spent." }))
        {
            Assert.Equal(HttpStatusCode.OK, noOutcome.StatusCode);
            Assert.Contains("uphold or dismiss", await noOutcome.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var noReason = await DecideAsync(s, id, new() { ["Outcome"] = "Dismissed", ["Reason"] = "" }))
        {
            Assert.Equal(HttpStatusCode.OK, noReason.StatusCode);
        }
        using (var decided = await DecideAsync(s, id, new() { ["Outcome"] = "Dismissed", ["Reason"] = "The call's budget is fully awarded; apply for a supplement in spring." }))
        {
            Assert.Equal(HttpStatusCode.Redirect, decided.StatusCode);
        }
        using (var twice = await DecideAsync(s, id, new() { ["Outcome"] = "Upheld", ["Reason"] = "Changed my mind." }))
        {
            Assert.Equal(HttpStatusCode.OK, twice.StatusCode);
            Assert.Contains("already decided", await twice.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await using (var db = factory.NewDbContext())
        {
            var appeal = await db.DecisionAppeals.AsNoTracking().SingleAsync(a => a.ProposalId == id);
            Assert.Equal(AppealOutcome.Dismissed, appeal.Outcome);
            var team = await db.ProposalMembers.Where(m => m.ProposalId == id && m.UserId != null).Select(m => m.UserId!.Value).ToListAsync();
            Assert.Equal(team.Order(), (await db.Notifications.Where(n => n.Kind == NotificationKinds.AppealDecided).Select(n => n.UserId).ToListAsync()).Order());
            var history = await db.ProposalHistory.Where(h => h.ProposalId == id).OrderBy(h => h.Id).Select(h => h.Reason).ToListAsync();
            Assert.Contains("Appeal of the decision filed", history);
            Assert.Contains("Appeal dismissed: The call's budget is fully awarded; apply for a supplement in spring.", history);
        }
        var shown = await pi.GetPageAsync($"/Proposals/Appeal/{id}");
        Assert.Contains("Outcome: dismissed", shown, StringComparison.Ordinal);
        Assert.Contains("apply for a supplement in spring", shown, StringComparison.Ordinal);
        Assert.Contains("dismissed", await s.Admin.GetPageAsync("/Admin/Appeals"), StringComparison.Ordinal);
    }
}

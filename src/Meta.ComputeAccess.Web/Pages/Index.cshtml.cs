using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages;

/// <summary>The landing page for visitors and the dashboard for signed-in users, one section per role.</summary>
[AllowAnonymous]
public sealed class IndexModel(PortalDbContext db, TimeProvider clock, IAuthorizationService authorization) : PageModel
{
    public AdminSummary? Admin { get; private set; }

    /// <summary>The Reviewer policy, not the bare role: a password-only session of a reviewer sees no reviewing section.</summary>
    public bool Reviewing { get; private set; }

    public IReadOnlyList<Proposals.IndexModel.Row> MyProposals { get; private set; } = [];

    public int OpenCalls { get; private set; }

    public sealed record AdminSummary(int Users, int Reviewers, int Clusters, int PendingMail, int FailedMail);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        if (!User.IsPortalUser())
        {
            return;
        }
        var now = clock.GetUtcNow();
        MyProposals = await Proposals.IndexModel.MineAsync(db, User.GetUserId(), cancellationToken);
        OpenCalls = await db.Calls.CountAsync(c => c.Status == Meta.ComputeAccess.Calls.CallStatus.Open && (c.ClosesAt == null || c.ClosesAt > now), cancellationToken);
        // The policies, not the bare roles: the summary is admin data and needs two-factor like the admin pages.
        var staff = await authorization.StaffAccessAsync(User);
        Reviewing = staff.Reviewer;
        if (staff.Admin)
        {
            // One round trip for the five counts (scalar subqueries on the reviewer role's row), not six queries.
            Admin = await db.Roles.AsNoTracking().Where(r => r.Name == Roles.Reviewer)
                .Select(r => new AdminSummary(
                    db.Users.Count(),
                    db.UserRoles.Count(ur => ur.RoleId == r.Id),
                    db.Clusters.Count(),
                    db.OutboxMessages.Count(m => m.Status == OutboxStatus.Pending),
                    db.OutboxMessages.Count(m => m.Status == OutboxStatus.Failed)))
                .SingleAsync(cancellationToken);
        }
    }
}

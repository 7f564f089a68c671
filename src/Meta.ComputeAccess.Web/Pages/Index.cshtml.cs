using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Configurations;
using Meta.ComputeAccess.Web.Pages.Dashboard;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages;

/// <summary>
/// The landing page for visitors and, for signed-in users, a to-do list per role: the admin's queues, the reviewer's
/// assignments and bidding, the researcher's proposals, allocations and invitations (<see cref="Dashboard"/>).
/// </summary>
[AllowAnonymous]
public sealed class IndexModel(PortalDbContext db, TimeProvider clock, IAuthorizationService authorization, AdminDashboardCache adminCounts) : PageModel
{
    public DateTimeOffset Now { get; private set; }

    public AdminDashboard? Admin { get; private set; }

    public ReviewerDashboard? Reviewer { get; private set; }

    public ResearcherDashboard Researcher { get; private set; } = new([], [], [], 0, []);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        if (!User.IsPortalUser())
        {
            return;
        }
        Now = clock.GetUtcNow();
        var me = User.GetUserId();
        // The Admin policy, not the bare role: the queues are admin data and need two-factor like the admin pages.
        var viewer = await this.ViewerAsync();
        if (viewer.IsAdmin)
        {
            Admin = await adminCounts.GetAsync(() => AdminDashboard.LoadAsync(db, viewer, Now, cancellationToken));
        }
        // The Reviewer policy, not the bare role: a password-only session of a reviewer sees no reviewing section.
        if ((await authorization.AuthorizeAsync(User, Policies.Reviewer)).Succeeded)
        {
            Reviewer = await ReviewerDashboard.LoadAsync(db, me, cancellationToken);
        }
        Researcher = await ResearcherDashboard.LoadAsync(db, me, Now, cancellationToken);
    }
}

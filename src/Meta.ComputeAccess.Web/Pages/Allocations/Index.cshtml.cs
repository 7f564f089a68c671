using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Allocations;

/// <summary>The signed-in user's allocations, as PI or active member (<see cref="AllocationVisibility.OnTeamOf"/>), and how many invitations wait for an answer; admins too see only their own here.</summary>
public sealed class IndexModel(PortalDbContext db) : PageModel
{
    public sealed record Row(Guid Id, string ProjectTitle, string SlurmAccount, AllocationState State, DateOnly StartDate, DateOnly EndDate, decimal Granted, decimal Used);

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public int OpenInvitations { get; private set; }

    public async Task OnGetAsync()
    {
        var userId = User.GetUserId();
        Rows = await db.Allocations.OnTeamOf(userId).AsNoTracking()
            .OrderByDescending(a => a.EndDate)
            .Select(a => new Row(a.Id, a.ProjectTitle, a.SlurmAccount, a.State, a.StartDate, a.EndDate, a.Quotas.Sum(q => q.GrantedHours), a.Quotas.Sum(q => q.UsedHours)))
            .ToListAsync();
        OpenInvitations = await db.AllocationMembers.CountAsync(m => m.UserId == userId && m.Status == AllocationMemberStatus.Invited);
    }
}

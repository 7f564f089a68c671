using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Allocations;

/// <summary>The signed-in user's allocations, as PI or as a member of the awarded proposal's team (<see cref="AllocationVisibility.OnTeamOf"/>); admins too see only their own here.</summary>
public sealed class IndexModel(PortalDbContext db) : PageModel
{
    public sealed record Row(Guid Id, string ProjectTitle, string SlurmAccount, AllocationState State, DateOnly EndDate, decimal Granted, decimal Used);

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public async Task OnGetAsync() =>
        Rows = await db.Allocations.OnTeamOf(User.GetUserId()).AsNoTracking()
            .OrderByDescending(a => a.EndDate)
            .Select(a => new Row(a.Id, a.ProjectTitle, a.SlurmAccount, a.State, a.EndDate, a.Quotas.Sum(q => q.GrantedHours), a.Quotas.Sum(q => q.UsedHours)))
            .ToListAsync();
}

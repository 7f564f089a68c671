using Meta.ComputeAccess.Allocation;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Allocations;

/// <summary><c>/Allocations/{id}</c>: balances, burn-down, projection, ledger, jobs and history; 404 for anyone who may not see it.</summary>
public sealed class DetailsModel(PortalDbContext db, AllocationVisibility visibility, TimeProvider clock) : PageModel
{
    public AllocationReport Report { get; private set; } = null!;

    public bool CanRequestSupplement { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid id)
    {
        var report = await AllocationReport.LoadAsync(db, id, clock.GetUtcNow(), HttpContext.RequestAborted);
        if (report is null || !await visibility.CanSeeAsync(report.Allocation, User.GetUserId(), User.IsInRole(Roles.Admin), HttpContext.RequestAborted))
        {
            return NotFound();
        }
        Report = report;
        CanRequestSupplement = report.Allocation.IsOpen && AllocationVisibility.CanRequestSupplement(report.Allocation, User.GetUserId());
        return Page();
    }
}

using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Admin.Allocations;

/// <summary><c>/Admin/Allocations/Advances</c>: every advance, what was deducted, and the debts of renewals that were declined.</summary>
public sealed class AdvancesModel(PortalDbContext db) : PageModel
{
    public IReadOnlyList<AdvanceLine> Advances { get; private set; } = [];

    public async Task OnGetAsync() => Advances = await AdvanceLine.ListAsync(db, cancellationToken: HttpContext.RequestAborted);
}

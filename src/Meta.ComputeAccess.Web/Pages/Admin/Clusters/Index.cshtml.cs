using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Clusters;

public sealed class IndexModel(PortalDbContext db) : PageModel
{
    public IReadOnlyList<Cluster> Clusters { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Clusters = await db.Clusters.AsNoTracking().OrderBy(c => c.Name).ToListAsync(cancellationToken);
}

using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Clusters;

/// <summary>The clusters, with when each one's agent last reported; a cluster whose agent has gone quiet is flagged.</summary>
public sealed class IndexModel(PortalDbContext db, TimeProvider clock) : PageModel
{
    public IReadOnlyList<Cluster> Clusters { get; private set; } = [];

    public IReadOnlyDictionary<Guid, ClusterSyncSummary> Sync { get; private set; } = new Dictionary<Guid, ClusterSyncSummary>();

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Clusters = await db.Clusters.AsNoTracking().OrderBy(c => c.Name).ToListAsync(cancellationToken);
        Sync = (await ClusterSyncReports.SummariesAsync(db, clock.GetUtcNow(), cancellationToken)).ToDictionary(s => s.ClusterId);
    }
}

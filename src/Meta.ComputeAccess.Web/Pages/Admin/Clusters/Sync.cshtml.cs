using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Clusters;

/// <summary>
/// <c>/Admin/Clusters/Sync/{slug}</c>: what the cluster's agent last reported (every account's outcome: not in Slurm,
/// limit applied, members added and removed, failures), its recent runs, and whether it has gone quiet.
/// </summary>
public sealed class SyncModel(PortalDbContext db, TimeProvider clock) : PageModel
{
    public const int RecentCount = 20;

    public Cluster Cluster { get; private set; } = null!;

    public ClusterSyncSummary Summary { get; private set; } = null!;

    public SyncReportLine? Picture { get; private set; }

    public IReadOnlyList<SyncOutcomeLine> Outcomes { get; private set; } = [];

    public IReadOnlyList<SyncReportLine> Recent { get; private set; } = [];

    /// <summary>The plan the cluster is served now: its tag (a report that applied another is behind) and size.</summary>
    public (string ETag, DateTimeOffset Since, int Accounts)? CurrentPlan { get; private set; }

    public async Task<IActionResult> OnGetAsync(string slug)
    {
        var cancellationToken = HttpContext.RequestAborted;
        if (await db.Clusters.AsNoTracking().SingleOrDefaultAsync(c => c.Slug == slug, cancellationToken) is not { } cluster)
        {
            return NotFound();
        }
        Cluster = cluster;
        Summary = (await ClusterSyncReports.SummariesAsync(db, clock.GetUtcNow(), cancellationToken)).Single(s => s.ClusterId == cluster.Id);
        (Picture, Outcomes) = await ClusterSyncReports.LatestPictureAsync(db, cluster.Id, cancellationToken);
        Recent = await ClusterSyncReports.RecentAsync(db, cluster.Id, RecentCount, cancellationToken);
        var plan = await ClusterPlan.ForClusterAsync(db, cluster.Id, clock, cancellationToken);
        CurrentPlan = (plan.ETag, plan.GeneratedAt, plan.Accounts.Count);
        return Page();
    }
}

using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// Deletes plan contents a cluster was served (<c>cluster_plan_versions</c>, one row per distinct plan, for its
/// <c>generatedAt</c>) first served more than <see cref="KeepDays"/> ago, except each cluster's newest: every grant,
/// member or state change makes a new row, and none is read again once the plan has moved on. Should an old content
/// come back, its <c>generatedAt</c> is simply the time it is served again.
/// </summary>
public sealed partial class PurgeClusterPlanVersionsJob(PortalDbContext db, TimeProvider clock, ILogger<PurgeClusterPlanVersionsJob> logger)
{
    public const int KeepDays = 90;

    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        var before = clock.GetUtcNow().AddDays(-KeepDays);
        var removed = await db.ClusterPlanVersions
            .Where(v => v.FirstServedAt < before
                && db.ClusterPlanVersions.Any(n => n.ClusterId == v.ClusterId && n.FirstServedAt > v.FirstServedAt))
            .ExecuteDeleteAsync(cancellationToken);
        LogPurged(logger, removed);
        return removed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} cluster plan versions")]
    private static partial void LogPurged(ILogger logger, int count);
}

using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Allocations;

/// <summary>A job charged to the allocation, as the overview lists it.</summary>
public sealed record ChargedJob(string JobId, string ClusterName, string User, DateTimeOffset EndedAt, int Gpus, decimal GpuHours, string State);

/// <summary>
/// What <c>_AllocationOverview</c> shows, for the PI's page and the admin's: the allocation module's report and the
/// latest jobs the usage module charged to it. Null when the allocation does not exist or the viewer may not see it.
/// </summary>
public sealed record AllocationOverview(AllocationReport Report, IReadOnlyList<ChargedJob> RecentJobs)
{
    public const int RecentJobCount = 50;

    public static async Task<AllocationOverview?> LoadAsync(PortalDbContext db, Viewer viewer, Guid id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await AllocationReport.LoadAsync(db, viewer, id, now, cancellationToken) is not { } report)
        {
            return null;
        }
        var names = report.Quotas.ToDictionary(q => q.ClusterId, q => q.ClusterName);
        var jobs = await db.UsageRecords.AsNoTracking().Where(u => u.AllocationId == id).OrderByDescending(u => u.EndedAt).Take(RecentJobCount)
            .Select(u => new { u.JobId, u.ClusterId, u.UserName, u.EndedAt, u.GpuCount, u.GpuHours, u.State }).ToListAsync(cancellationToken);
        return new AllocationOverview(report,
            [.. jobs.Select(j => new ChargedJob(j.JobId, names.GetValueOrDefault(j.ClusterId, "?"), j.UserName, j.EndedAt, j.GpuCount, j.GpuHours, j.State))]);
    }
}

using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Allocations;

/// <summary>A job charged to the allocation, as the overview lists it.</summary>
/// <param name="Charged">What it cost in the program's unit, by its cluster's charge policy at its end.</param>
public sealed record ChargedJob(string JobId, string ClusterName, string User, DateTimeOffset EndedAt, int Gpus, decimal GpuHours, string State, decimal Charged);

/// <summary>What one Slurm user ran under the allocation on one cluster: jobs charged and their GPU-hours.</summary>
public sealed record UserUsage(string ClusterName, string User, long Jobs, decimal GpuHours);

/// <summary>One of the allocation's progress or final reports, with its outputs.</summary>
public sealed record ReportLine(Guid Id, ProgressReportKind Kind, ProgressReportStatus Status, DateOnly DueOn, DateTimeOffset? SubmittedAt, DateTimeOffset? AcceptedAt,
    string Narrative, IReadOnlyList<ReportOutput> Outputs, bool Overdue, bool OnRequest);

/// <summary>
/// What <c>_AllocationOverview</c> shows, for the PI's page and the admin's: the allocation module's report and team
/// (members, logins, what the clusters' agents last reported), the latest jobs the usage module charged to it, and who
/// used its hours. <see cref="CanManageMembers"/> shows the invite and remove forms. Null when the allocation does not
/// exist or the viewer may not see it.
/// </summary>
public sealed record AllocationOverview(AllocationReport Report, AllocationTeam Team, IReadOnlyList<ChargedJob> RecentJobs, IReadOnlyList<UserUsage> UsageByUser, bool CanManageMembers,
    IReadOnlyList<ReportLine> Reports)
{
    public const int RecentJobCount = 50;

    /// <summary>The most users listed (by GPU-hours); a cluster decides the user names, so their number is not ours to trust.</summary>
    public const int UserCount = 50;

    public static async Task<AllocationOverview?> LoadAsync(PortalDbContext db, Viewer viewer, Guid id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await AllocationReport.LoadAsync(db, viewer, id, now, cancellationToken) is not { } report)
        {
            return null;
        }
        var team = await AllocationTeam.LoadAsync(db, report, cancellationToken);
        var names = report.Quotas.ToDictionary(q => q.ClusterId, q => q.ClusterName);
        var jobs = await db.UsageRecords.AsNoTracking().Where(u => u.AllocationId == id).OrderByDescending(u => u.EndedAt).Take(RecentJobCount)
            .Select(u => new { u.JobId, u.ClusterId, u.UserName, u.EndedAt, u.GpuCount, u.GpuHours, u.State, Charged = u.ChargedHours ?? u.GpuHours }).ToListAsync(cancellationToken);
        // The running totals kept as jobs are charged: one row per cluster and user, however many jobs there were.
        var users = await db.AllocationUserUsage.AsNoTracking().Where(u => u.AllocationId == id)
            .OrderByDescending(u => u.GpuHours).ThenBy(u => u.UserName).Take(UserCount)
            .Select(u => new { u.ClusterId, u.UserName, u.Jobs, u.GpuHours }).ToListAsync(cancellationToken);
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var reports = await db.ProgressReports.AsNoTracking().Include(r => r.Outputs).Where(r => r.AllocationId == id).OrderBy(r => r.DueOn).ToListAsync(cancellationToken);
        return new AllocationOverview(report, team,
            [.. jobs.Select(j => new ChargedJob(j.JobId, names.GetValueOrDefault(j.ClusterId, "?"), j.UserName, j.EndedAt, j.GpuCount, j.GpuHours, j.State, j.Charged))],
            [.. users.Select(u => new UserUsage(names.GetValueOrDefault(u.ClusterId, "?"), u.UserName, u.Jobs, u.GpuHours))],
            report.Allocation.IsOpen && report.Allocation.MayManageMembers(viewer),
            [.. reports.Select(r => new ReportLine(r.Id, r.Kind, r.Status, r.DueOn, r.SubmittedAt, r.AcceptedAt, r.Narrative, r.Outputs, r.IsOverdue(today), r.IsOnRequest))]);
    }
}

using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>The team submits its progress and final reports; an admin accepts them. Each method saves once.</summary>
public sealed class ProgressReports(
    PortalDbContext db, AllocationService allocations, AuditLog audit, Notifier notifier, AllocationNotices notices,
    IEnumerable<IProgressReportAcceptedHandler> accepted, TimeProvider clock)
{
    /// <summary>
    /// Submits (or corrects, until accepted) report <paramref name="reportId"/> for someone on the allocation's team;
    /// false when they may not see it (404). Admins hear of it.
    /// </summary>
    public async Task<bool> SubmitAsync(Guid reportId, Guid userId, string? narrative, IReadOnlyList<OutputInput> outputs, CancellationToken cancellationToken = default)
    {
        var mine = db.Allocations.OnTeamOf(userId).Select(a => a.Id);
        var report = await db.ProgressReports.Include(r => r.Outputs).SingleOrDefaultAsync(r => r.Id == reportId && mine.Contains(r.AllocationId), cancellationToken);
        if (report is null)
        {
            return false;
        }
        var allocation = await db.Allocations.AsNoTracking().SingleAsync(a => a.Id == report.AllocationId, cancellationToken);
        var first = report.Status == ProgressReportStatus.Due;
        report.Submit(narrative, outputs, userId, clock.GetUtcNow());
        if (first)
        {
            await notifier.NotifyAdminsAsync(NotificationKinds.ReportSubmitted, allocation.ProjectTitle, $"/Admin/Allocations/Details?id={allocation.Id}",
                new Dictionary<string, string> { ["report"] = Describe(report.Kind) }, cancellationToken);
        }
        await db.SaveChangesOrRefuseAsync("Someone else changed this report meanwhile: open it again to see their version.", cancellationToken);
        return true;
    }

    /// <summary>
    /// An admin accepts a submitted report: the team is told, and every <see cref="IProgressReportAcceptedHandler"/>
    /// runs in the same transaction, under the allocation's row lock. False when the report does not exist.
    /// </summary>
    public Task<bool> AcceptAsync(Guid reportId, Guid admin, CancellationToken cancellationToken = default) => allocations.InTransactionAsync(async () =>
    {
        var allocationId = await db.ProgressReports.Where(r => r.Id == reportId).Select(r => (Guid?)r.AllocationId).SingleOrDefaultAsync(cancellationToken);
        if (allocationId is null)
        {
            return false;
        }
        var allocation = await allocations.LockAsync(allocationId.Value, cancellationToken);
        var report = await db.ProgressReports.SingleAsync(r => r.Id == reportId, cancellationToken);
        var now = clock.GetUtcNow();
        report.Accept(admin, now);
        audit.Record(admin, "allocation.report-accepted", "allocation", allocation.Id.ToString(), $"Accepted the {Describe(report.Kind)} of \"{allocation.ProjectTitle}\"");
        await notices.ReportAsync(allocation, NotificationKinds.ReportAccepted, report, cancellationToken);
        foreach (var handler in accepted)
        {
            await handler.OnProgressReportAcceptedAsync(new AcceptedProgressReport(report.Id, report.AllocationId, report.Kind, admin, now) { OnRequest = report.IsOnRequest }, cancellationToken);
        }
        await db.SaveChangesOrRefuseAsync("Someone else changed this report meanwhile: open it again.", cancellationToken);
        return true;
    }, cancellationToken);

    /// <summary>
    /// An admin asks the team of a running allocation for a progress report now, due on <paramref name="dueOn"/>
    /// (<see cref="ProgressReport.AskNow"/>): the team is told by notice and mail, the report is on their dashboard and
    /// allocation page. One asked-for report may wait at a time; scheduled reports are asked for as before.
    /// </summary>
    public Task<ProgressReport> AskAsync(Guid allocationId, DateOnly dueOn, Guid admin, CancellationToken cancellationToken = default) => allocations.InTransactionAsync(async () =>
    {
        var allocation = await allocations.LockAsync(allocationId, cancellationToken);
        if (!Allocation.ChargeableStates.Contains(allocation.State))
        {
            throw new DomainException($"Only a running allocation is asked for a report on demand; this one is {allocation.State.AsLowerWords()} (an ended allocation owes its final report).");
        }
        var waiting = await db.ProgressReports.AsNoTracking()
            .Where(r => r.AllocationId == allocationId && r.RequestedBy != null && r.Status == ProgressReportStatus.Due)
            .Select(r => (DateOnly?)r.DueOn).FirstOrDefaultAsync(cancellationToken);
        if (waiting is { } due)
        {
            throw new DomainException($"A progress report asked for on demand is still due on {due:yyyy-MM-dd}: wait for it before asking again.");
        }
        var now = clock.GetUtcNow();
        var report = ProgressReport.AskNow(allocationId, dueOn, admin, now);
        db.ProgressReports.Add(report);
        audit.Record(admin, "allocation.report-asked", "allocation", allocation.Id.ToString(), $"Asked for a progress report on \"{allocation.ProjectTitle}\" due on {dueOn:yyyy-MM-dd}");
        await notices.ReportAsync(allocation, NotificationKinds.ReportRequested, report, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        return report;
    }, cancellationToken);

    /// <summary>"progress report" or "final report", for sentences.</summary>
    public static string Describe(ProgressReportKind kind) => kind == ProgressReportKind.Final ? "final report" : "progress report";
}

using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// Daily, and safe to run any number of times: asks each allocation's team for its progress report once the configured
/// share of its days has passed (<see cref="ProgressReportOptions.ProgressAt"/>) and for its final report once it has
/// ended; reminds the team <see cref="ProgressReportOptions.ReminderDays"/> before a report is due, and tells it once
/// when the report is overdue (admins see overdue reports on their dashboard). Each report is asked for once (a
/// unique key per allocation and kind); each allocation is handled in its own transaction.
/// </summary>
public sealed partial class ProgressReportJob(PortalDbContext db, AllocationNotices notices, IOptions<ProgressReportOptions> options, TimeProvider clock, ILogger<ProgressReportJob> log)
{
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var candidates = await db.Allocations.AsNoTracking()
            .Where(a => a.StartDate <= today)
            .Where(a => !db.ProgressReports.Any(r => r.AllocationId == a.Id && r.Kind == ProgressReportKind.Final)
                || db.ProgressReports.Any(r => r.AllocationId == a.Id && r.Status == ProgressReportStatus.Due && (r.ReminderSentAt == null || r.OverdueNoticeSentAt == null)))
            .OrderBy(a => a.Id)
            .Select(a => a.Id)
            .ToListAsync(cancellationToken);
        foreach (var id in candidates)
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var allocation = (await db.LockAsync<Allocation>($"SELECT * FROM allocations WHERE id = {id} FOR UPDATE", cancellationToken)).Single();
            var reports = await db.ProgressReports.Where(r => r.AllocationId == id).ToListAsync(cancellationToken);
            // Reports an admin asked for on demand do not stand in for the scheduled ones.
            foreach (var (kind, dueOn) in Owed(allocation, settings, today).Where(o => reports.All(r => r.Kind != o.Kind || r.IsOnRequest)))
            {
                var report = ProgressReport.Request(allocation.Id, kind, dueOn, now);
                db.ProgressReports.Add(report);
                reports.Add(report);
                await notices.ReportAsync(allocation, NotificationKinds.ReportRequested, report, cancellationToken);
                LogRequested(allocation.Id, kind, dueOn);
            }
            foreach (var report in reports.Where(r => r.Status == ProgressReportStatus.Due))
            {
                if (report.IsOverdue(today))
                {
                    if (report.OverdueNoticeSentAt is null)
                    {
                        // An overdue report needs no reminder any more.
                        report.MarkReminderSent(now);
                        report.MarkOverdueNoticeSent(now);
                        await notices.ReportAsync(allocation, NotificationKinds.ReportOverdue, report, cancellationToken);
                    }
                }
                else if (report.ReminderSentAt is null && report.DueOn.DayNumber - today.DayNumber <= settings.ReminderDays
                         && report.RequestedAt < now.AddDays(-1))
                {
                    // A report asked for within the reminder window is not reminded of the next day.
                    report.MarkReminderSent(now);
                    await notices.ReportAsync(allocation, NotificationKinds.ReportDue, report, cancellationToken);
                }
            }
            await db.SaveChangesAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>The reports an allocation owes by <paramref name="today"/>, with their due dates.</summary>
    public static IEnumerable<(ProgressReportKind Kind, DateOnly DueOn)> Owed(Allocation allocation, ProgressReportOptions settings, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(allocation);
        ArgumentNullException.ThrowIfNull(settings);
        var ended = !allocation.IsOpen || allocation.EndDate < today;
        if (settings.ProgressAt > 0 && !ended)
        {
            var days = allocation.EndDate.DayNumber - allocation.StartDate.DayNumber + 1;
            var askOn = allocation.StartDate.AddDays((int)Math.Floor(days * settings.ProgressAt));
            if (today >= askOn)
            {
                yield return (ProgressReportKind.Progress, today.AddDays(settings.ProgressDueDays));
            }
        }
        if (ended)
        {
            var end = allocation.EndDate < today ? allocation.EndDate : today;
            var due = end.AddDays(settings.FinalDueDays);
            yield return (ProgressReportKind.Final, due < today ? today.AddDays(settings.ReminderDays) : due);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Allocation {AllocationId}: {Kind} report requested, due {DueOn}")]
    private partial void LogRequested(Guid allocationId, ProgressReportKind kind, DateOnly dueOn);
}

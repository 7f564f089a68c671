using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Meta.ComputeAccess.Review;

/// <summary>
/// Reminds reviewers of unsubmitted reviews: review.due from three days before the call's review deadline, review.overdue
/// once it has passed; each at most once per review (the sent time is stored with the notice, so a second run sends nothing).
/// </summary>
public sealed partial class ReviewReminderJob(PortalDbContext db, Notifier notifier, TimeProvider clock, ILogger<ReviewReminderJob> logger)
{
    public static readonly TimeSpan DueWindow = TimeSpan.FromDays(3);

    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var dueFrom = now + DueWindow;
        var pending = await (from r in db.Reviews
                             join p in db.Proposals on r.ProposalId equals p.Id
                             join c in db.Calls on r.CallId equals c.Id
                             where r.SubmittedAt == null && p.Status == ProposalStatus.InReview && c.ReviewDeadline != null
                                && ((r.OverdueReminderSentAt == null && c.ReviewDeadline <= now)
                                    || (r.DueReminderSentAt == null && c.ReviewDeadline > now && c.ReviewDeadline <= dueFrom))
                                && !db.ReviewConflicts.Any(x => x.ProposalId == r.ProposalId && x.ReviewerUserId == r.ReviewerUserId && x.Status != ConflictStatus.Cleared)
                             select new { Review = r, p.Title, c.ReviewDeadline })
            .ToListAsync(cancellationToken);
        foreach (var item in pending)
        {
            var overdue = item.ReviewDeadline <= now;
            var due = item.ReviewDeadline!.Value.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);
            await notifier.NotifyAsync(item.Review.ReviewerUserId, overdue ? NotificationKinds.ReviewOverdue : NotificationKinds.ReviewDue, item.Title,
                $"/Reviews/Review/{item.Review.ProposalId}", new Dictionary<string, string> { ["due"] = due }, cancellationToken);
            if (overdue)
            {
                // An overdue notice makes the "due soon" one pointless.
                item.Review.MarkOverdueReminderSent(now);
                if (item.Review.DueReminderSentAt is null)
                {
                    item.Review.MarkDueReminderSent(now);
                }
            }
            else
            {
                item.Review.MarkDueReminderSent(now);
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        LogSent(logger, pending.Count);
        return pending.Count;
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Sent {Count} review reminders")]
    private static partial void LogSent(ILogger logger, int count);
}

using System.Text;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Meta.ComputeAccess.Notifications;

/// <summary>
/// Gathers each user's notices that wait for a digest into one mail a day, in the morning of the user's own time zone
/// (profile; UTC if unset): a run (hourly) builds the digest of every user whose local time is past
/// <see cref="DigestHour"/>, with the notices raised before their local midnight. Idempotent: the (user, local day)
/// row in <c>notification_digests</c> is claimed first, so a second run the same day, or two instances at once, build
/// no second digest; the notices it took are marked and never gathered again. Notices the user already read in the
/// portal are left out of the mail.
/// </summary>
public sealed partial class DailyDigestJob(
    PortalDbContext db,
    EmailOutbox outbox,
    NotificationTemplates templates,
    Notifier notifier,
    TimeProvider clock,
    ILogger<DailyDigestJob> logger)
{
    /// <summary>The local hour from which a user's digest for the day is built.</summary>
    public const int DigestHour = 6;

    /// <summary>Builds the digests that are due; returns how many digest mails were queued.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var waiting = await (from n in db.Notifications.AsNoTracking()
                             where n.Delivery == NotificationDelivery.Digest && n.DigestedAt == null
                             join u in db.Users on n.UserId equals u.Id
                             group n.CreatedAt by new { n.UserId, u.TimeZoneId, u.Email, u.FullName } into g
                             select new { g.Key.UserId, g.Key.TimeZoneId, g.Key.Email, g.Key.FullName, Oldest = g.Min() })
            .ToListAsync(cancellationToken);
        var mailed = 0;
        foreach (var user in waiting)
        {
            var zone = TimeZoneInfo.TryFindSystemTimeZoneById(user.TimeZoneId, out var found) ? found : TimeZoneInfo.Utc;
            var local = TimeZoneInfo.ConvertTime(now, zone);
            if (local.Hour < DigestHour)
            {
                continue;
            }
            var today = DateOnly.FromDateTime(local.DateTime);
            var cutoff = LocalMidnight(today, zone);
            if (user.Oldest >= cutoff)
            {
                // Everything waiting was raised today and belongs to tomorrow's digest: today's is not claimed (an empty
                // claim would stand for a digest that never gathered anything).
                continue;
            }
            if (await BuildAsync(user.UserId, user.Email, user.FullName, today, cutoff, now, cancellationToken))
            {
                mailed++;
            }
            db.ChangeTracker.Clear();
        }
        LogBuilt(logger, mailed, now);
        return mailed;
    }

    /// <summary>The instant <paramref name="day"/> begins in <paramref name="zone"/> (the first valid time, where clocks skip midnight).</summary>
    public static DateTimeOffset LocalMidnight(DateOnly day, TimeZoneInfo zone)
    {
        var start = day.ToDateTime(TimeOnly.MinValue);
        while (zone.IsInvalidTime(start))
        {
            start = start.AddMinutes(15);
        }
        return new DateTimeOffset(start, zone.GetUtcOffset(start)).ToUniversalTime();
    }

    private async Task<bool> BuildAsync(Guid userId, string? email, string name, DateOnly today, DateTimeOffset cutoff, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        // The claim: a concurrent run waits here on the key and then inserts nothing.
        var claimed = await db.Database.ExecuteSqlAsync(
            $"INSERT INTO notification_digests (user_id, day, item_count, created_at) VALUES ({userId}, {today}, 0, {now}) ON CONFLICT DO NOTHING",
            cancellationToken);
        if (claimed == 0)
        {
            return false;
        }
        var items = await db.Notifications
            .Where(n => n.UserId == userId && n.Delivery == NotificationDelivery.Digest && n.DigestedAt == null && n.CreatedAt < cutoff)
            .OrderBy(n => n.CreatedAt)
            .ToListAsync(cancellationToken);
        var unread = items.Where(n => n.ReadAt == null).ToList();
        Guid? messageId = null;
        if (unread.Count > 0 && email is not null)
        {
            var message = Render(userId, name, unread);
            messageId = outbox.Queue("digest", userId, email, message.Subject, message.Text, message.Html,
                notifier.OneClickUnsubscribeUrl(userId, UnsubscribeTokens.DigestKind)).Id;
        }
        foreach (var item in items)
        {
            item.MarkDigested(now);
        }
        await db.SaveChangesAsync(cancellationToken);
        await db.NotificationDigests.Where(d => d.UserId == userId && d.Day == today)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.OutboxMessageId, messageId).SetProperty(d => d.ItemCount, unread.Count), cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return messageId is not null;
    }

    private RenderedMessage Render(Guid userId, string name, List<Notification> items)
    {
        var list = new StringBuilder();
        foreach (var item in items)
        {
            // Stored notices were rendered inert; made inert again here so that no older row can carry a line or a link of its own.
            list.Append("* ").Append(NotificationTemplates.Inert(item.Title)).Append('\n').Append(NotificationTemplates.Inert(item.Summary)).Append('\n');
            if (item.Link is not null)
            {
                list.Append(notifier.AbsoluteUrl(item.Link)).Append('\n');
            }
            list.Append('\n');
        }
        list.Append("Stop emails about:\n");
        foreach (var kind in items.Select(i => i.Kind).Distinct())
        {
            list.Append(NotificationKinds.Get(kind).Description).Append(": ").Append(notifier.UnsubscribeUrl(userId, kind)).Append('\n');
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["name"] = name,
            ["count"] = items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["items"] = list.ToString().TrimEnd('\n'),
        };
        return templates.Render("_digest", values, templates.Footer(notifier.UnsubscribeUrl(userId, UnsubscribeTokens.DigestKind), notifier.AbsoluteUrl(Notifier.PreferencesPath)));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Queued {Count} daily digests at {At}")]
    private static partial void LogBuilt(ILogger logger, int count, DateTimeOffset at);
}

using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Notifications;

/// <summary>
/// A user's own notices under the bell: mark one read, open one (mark it read and say where it leads), mark all read.
/// Every method is limited to <c>userId</c>'s rows, so another user's notice behaves exactly like a missing one.
/// </summary>
public sealed class NotificationInbox(PortalDbContext db, TimeProvider clock)
{
    /// <summary>Where an opened notice leads: its portal-relative link, or null when it has none.</summary>
    public sealed record OpenedNotice(string? Link);

    public Task<int> MarkReadAsync(Guid userId, Guid id, CancellationToken cancellationToken = default) =>
        MarkReadAsync(db.Notifications.Where(n => n.Id == id && n.UserId == userId), cancellationToken);

    /// <summary>Returns how many notices were unread.</summary>
    public Task<int> MarkAllReadAsync(Guid userId, CancellationToken cancellationToken = default) =>
        MarkReadAsync(db.Notifications.Where(n => n.UserId == userId), cancellationToken);

    /// <summary>Marks the notice read and returns it; null when the user has no such notice.</summary>
    public async Task<OpenedNotice?> OpenAsync(Guid userId, Guid id, CancellationToken cancellationToken = default)
    {
        var notice = await db.Notifications.AsNoTracking()
            .Where(n => n.Id == id && n.UserId == userId)
            .Select(n => new OpenedNotice(n.Link))
            .SingleOrDefaultAsync(cancellationToken);
        if (notice is not null)
        {
            await MarkReadAsync(userId, id, cancellationToken);
        }
        return notice;
    }

    // One UPDATE, not a load: the bell's count reads the same rows, and ReadAt is only ever set once.
    private Task<int> MarkReadAsync(IQueryable<Notification> notices, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return notices.Where(n => n.ReadAt == null).ExecuteUpdateAsync(s => s.SetProperty(n => n.ReadAt, now), cancellationToken);
    }
}

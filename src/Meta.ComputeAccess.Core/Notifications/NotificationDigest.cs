namespace Meta.ComputeAccess.Notifications;

/// <summary>
/// The daily digest built for one user on one day. Its key (user, day) makes the digest job idempotent:
/// a second run on the same day, or two instances at once, build nothing more.
/// </summary>
public sealed class NotificationDigest
{
    public Guid UserId { get; private set; }

    public DateOnly Day { get; private set; }

    /// <summary>The digest mail; null when every waiting notice had already been read.</summary>
    public Guid? OutboxMessageId { get; private set; }

    public int ItemCount { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    private NotificationDigest()
    {
    }
}

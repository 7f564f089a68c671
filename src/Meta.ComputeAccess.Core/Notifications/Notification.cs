namespace Meta.ComputeAccess.Notifications;

/// <summary>How a notification reaches its recipient's mailbox, fixed when it is raised from their preference.</summary>
public enum NotificationDelivery
{
    /// <summary>Its own email, queued in the outbox with the notification.</summary>
    Email,

    /// <summary>Gathered into the next daily digest mail.</summary>
    Digest,

    /// <summary>Shown in the portal only (the recipient turned this kind of mail off).</summary>
    InAppOnly,
}

/// <summary>
/// A notice to one user, shown under the bell and on /Notifications. Written by <see cref="Notifier"/> in the
/// same unit of work as the change it reports, like the outbox row that mails it.
/// </summary>
public sealed class Notification
{
    public Guid Id { get; private set; }

    public Guid UserId { get; private set; }

    /// <summary>One of <see cref="NotificationKinds"/>.</summary>
    public string Kind { get; private set; } = "";

    /// <summary>The subject line, naming the proposal or allocation.</summary>
    public string Title { get; private set; } = "";

    /// <summary>One or two sentences, shown in the list and in the digest.</summary>
    public string Summary { get; private set; } = "";

    /// <summary>A portal-relative link ("/Proposals/…") to the thing the notice is about.</summary>
    public string? Link { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    public DateTimeOffset? ReadAt { get; private set; }

    public NotificationDelivery Delivery { get; private set; }

    /// <summary>When a digest mail took this notice; null while it waits (only for <see cref="NotificationDelivery.Digest"/>).</summary>
    public DateTimeOffset? DigestedAt { get; private set; }

    private Notification()
    {
    }

    internal static Notification Create(Guid userId, string kind, string title, string summary, string? link, NotificationDelivery delivery, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        UserId = userId,
        Kind = kind,
        Title = title,
        Summary = summary,
        Link = link,
        Delivery = delivery,
        CreatedAt = now,
    };

    internal void MarkDigested(DateTimeOffset now) => DigestedAt ??= now;
}

namespace Meta.ComputeAccess.Notifications;

public enum NotificationMode
{
    Immediate,
    DailyDigest,
    Off,
}

/// <summary>
/// One user's choice for one kind of notice. No row means <see cref="NotificationMode.Immediate"/>.
/// Security kinds never have a row that matters: they are always mailed at once.
/// </summary>
public sealed class NotificationPreference
{
    public Guid UserId { get; private set; }

    public string Kind { get; private set; } = "";

    public NotificationMode Mode { get; private set; }

    public DateTimeOffset UpdatedAt { get; private set; }

    private NotificationPreference()
    {
    }

    public static NotificationPreference Create(Guid userId, string kind, NotificationMode mode, DateTimeOffset now)
    {
        var preference = new NotificationPreference { UserId = userId, Kind = kind };
        preference.Change(mode, now);
        return preference;
    }

    /// <summary>Sets the mode; security mail cannot be digested or turned off.</summary>
    public void Change(NotificationMode mode, DateTimeOffset now)
    {
        if (NotificationKinds.IsSecurity(Kind) && mode != NotificationMode.Immediate)
        {
            throw new DomainException($"Security mail ({Kind}) is always sent immediately.");
        }
        Mode = mode;
        UpdatedAt = now;
    }
}

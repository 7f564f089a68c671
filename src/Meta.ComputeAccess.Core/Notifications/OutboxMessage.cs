namespace Meta.ComputeAccess.Notifications;

public enum OutboxStatus
{
    Pending,
    Sent,
    Failed,
}

/// <summary>
/// An email waiting to be delivered. It is written in the same transaction as the change that caused it,
/// so a rolled-back change never mails and a committed one always does; <see cref="OutboxDeliveryJob"/> sends it.
/// </summary>
public sealed class OutboxMessage
{
    /// <summary>After this many transient failures a message is marked failed and waits for an admin to resend it.</summary>
    public const int MaxAttempts = 10;

    public Guid Id { get; private set; }

    /// <summary>What the message is about, for example <c>account.confirm</c>; preferences and digests key on it.</summary>
    public string Kind { get; private set; } = "";

    public Guid? RecipientUserId { get; private set; }

    public string ToAddress { get; private set; } = "";

    public string Subject { get; private set; } = "";

    public string TextBody { get; private set; } = "";

    public string HtmlBody { get; private set; } = "";

    public OutboxStatus Status { get; private set; }

    public int Attempts { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    public DateTimeOffset NextAttemptAt { get; private set; }

    public DateTimeOffset? SentAt { get; private set; }

    public string? LastError { get; private set; }

    /// <summary>The one-click unsubscribe URL (RFC 8058) sent as <c>List-Unsubscribe</c>; null for security mail.</summary>
    public string? UnsubscribeUrl { get; private set; }

    private readonly List<OutboxAttempt> attemptHistory = [];

    /// <summary>Every delivery attempt, oldest first. Loaded only when included; new attempts are added by the Mark methods.</summary>
    public IReadOnlyList<OutboxAttempt> AttemptHistory => attemptHistory;

    private OutboxMessage()
    {
    }

    public static OutboxMessage Create(string kind, Guid? recipient, string to, string subject, string text, string html, DateTimeOffset now, string? unsubscribeUrl = null) => new()
    {
        UnsubscribeUrl = unsubscribeUrl,
        Id = Guid.CreateVersion7(now),
        Kind = kind,
        RecipientUserId = recipient,
        ToAddress = to,
        Subject = subject,
        TextBody = text,
        HtmlBody = html,
        Status = OutboxStatus.Pending,
        CreatedAt = now,
        NextAttemptAt = now,
    };

    public void MarkSent(DateTimeOffset now)
    {
        Attempts++;
        Status = OutboxStatus.Sent;
        SentAt = now;
        LastError = null;
        attemptHistory.Add(OutboxAttempt.Create(Id, now, OutboxAttemptOutcome.Sent, null));
    }

    /// <summary>
    /// Records an attempt that may work later (a 4xx reply, a network error) and schedules the next one with exponential
    /// backoff (1, 2, 4 ... 60 minutes); after <see cref="MaxAttempts"/> the message is failed.
    /// </summary>
    public void MarkAttemptFailed(string error, DateTimeOffset now)
    {
        RecordFailure(error, now);
        if (Attempts >= MaxAttempts)
        {
            Status = OutboxStatus.Failed;
            return;
        }
        var minutes = Math.Min(60, 1 << Math.Min(Attempts - 1, 6));
        NextAttemptAt = now.AddMinutes(minutes);
    }

    /// <summary>
    /// Records an attempt that can never work (an address that is not one, a 5xx reply from the server): the message is
    /// failed at once and not tried again unless an admin resends it.
    /// </summary>
    public void MarkRefused(string error, DateTimeOffset now)
    {
        RecordFailure(error, now);
        Status = OutboxStatus.Failed;
    }

    private void RecordFailure(string error, DateTimeOffset now)
    {
        Attempts++;
        LastError = error.Length > 500 ? error[..500] : error;
        attemptHistory.Add(OutboxAttempt.Create(Id, now, OutboxAttemptOutcome.Failed, LastError));
    }

    /// <summary>An admin asks for a failed or stuck message to be tried again now.</summary>
    public void Resend(DateTimeOffset now)
    {
        Status = OutboxStatus.Pending;
        Attempts = 0;
        NextAttemptAt = now;
    }
}

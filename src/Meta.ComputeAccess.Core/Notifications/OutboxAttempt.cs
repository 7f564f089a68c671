namespace Meta.ComputeAccess.Notifications;

public enum OutboxAttemptOutcome
{
    Sent,
    Failed,
}

/// <summary>One try at handing an outbox message to the SMTP server: when, how it went, and the server's or network's error.</summary>
public sealed class OutboxAttempt
{
    public long Id { get; private set; }

    public Guid MessageId { get; private set; }

    public DateTimeOffset AttemptedAt { get; private set; }

    public OutboxAttemptOutcome Outcome { get; private set; }

    public string? Error { get; private set; }

    private OutboxAttempt()
    {
    }

    internal static OutboxAttempt Create(Guid messageId, DateTimeOffset at, OutboxAttemptOutcome outcome, string? error) => new()
    {
        MessageId = messageId,
        AttemptedAt = at,
        Outcome = outcome,
        Error = error,
    };
}

namespace Meta.ComputeAccess.Privacy;

/// <summary>What one run of <see cref="RetentionJob"/> removed; admins read it on Admin → Retention. Kept, never changed.</summary>
public sealed class RetentionRun
{
    public long Id { get; private set; }

    public DateTimeOffset RanAt { get; private set; }

    /// <summary>Drafts not saved since this instant were removed.</summary>
    public DateTimeOffset DraftsUntouchedSince { get; private set; }

    /// <summary>Attachments of archived calls closed before this instant were removed.</summary>
    public DateTimeOffset CallsClosedBefore { get; private set; }

    public int DraftsRemoved { get; private set; }

    public int AttachmentsRemoved { get; private set; }

    public long BytesRemoved { get; private set; }

    /// <summary>One line per removed draft or attachment, by id (titles and file names go with what was removed).</summary>
    public string Detail { get; private set; } = "";

    private RetentionRun()
    {
    }

    public static RetentionRun Create(DateTimeOffset at, DateTimeOffset draftsUntouchedSince, DateTimeOffset callsClosedBefore, int drafts, int attachments, long bytes, string detail) => new()
    {
        RanAt = at,
        DraftsUntouchedSince = draftsUntouchedSince,
        CallsClosedBefore = callsClosedBefore,
        DraftsRemoved = drafts,
        AttachmentsRemoved = attachments,
        BytesRemoved = bytes,
        Detail = detail,
    };
}

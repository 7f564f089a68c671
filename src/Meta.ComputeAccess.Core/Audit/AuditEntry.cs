namespace Meta.ComputeAccess.Audit;

/// <summary>
/// One administrative action, kept forever. The table is append-only: a database trigger refuses UPDATE,
/// DELETE and TRUNCATE, so not even a bug in the portal can rewrite history.
/// </summary>
public sealed class AuditEntry
{
    public long Id { get; private set; }

    public DateTimeOffset OccurredAt { get; private set; }

    /// <summary>The user who acted; null for the system (jobs, command line).</summary>
    public Guid? ActorUserId { get; private set; }

    /// <summary>A dotted verb, for example <c>role.granted</c>.</summary>
    public string Action { get; private set; } = "";

    public string SubjectType { get; private set; } = "";

    public string SubjectId { get; private set; } = "";

    /// <summary>A sentence a person can read in the audit list, for example "Granted role Reviewer".</summary>
    public string Summary { get; private set; } = "";

    private AuditEntry()
    {
    }

    public static AuditEntry Create(DateTimeOffset at, Guid? actor, string action, string subjectType, string subjectId, string summary) => new()
    {
        OccurredAt = at,
        ActorUserId = actor,
        Action = action,
        SubjectType = subjectType,
        SubjectId = subjectId,
        // Summaries quote what users typed; an over-long one is cut rather than failing the change it records.
        Summary = summary.Length > MaxSummaryLength ? summary[..(MaxSummaryLength - 1)] + "…" : summary,
    };

    public const int MaxSummaryLength = 1000;
}

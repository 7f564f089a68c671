namespace Meta.ComputeAccess.Usage;

/// <summary>
/// A finished job as a cluster reported it (table <c>usage_records</c>, partitioned by month of the end), keyed by
/// cluster, job id, submit time and end (<see cref="JobKey"/> names it without the end, which a finished job never changes) so that a batch sent twice is recorded, and charged, once, while a new job with a reused id
/// is a job of its own. Written by binary COPY in <see cref="UsageIngest"/>.
/// </summary>
public sealed class StoredUsageRecord
{
    public Guid ClusterId { get; private set; }

    public string JobId { get; private set; } = "";

    /// <summary>
    /// When the job was submitted; null when the cluster did not send it (an older client, and every job recorded
    /// before submit times were kept). Part of the key: one job per cluster, id, submit time and end, null counting as one value.
    /// </summary>
    public DateTimeOffset? SubmittedAt { get; private set; }

    public string Account { get; private set; } = "";

    public string UserName { get; private set; } = "";

    public DateTimeOffset? StartedAt { get; private set; }

    public DateTimeOffset EndedAt { get; private set; }

    public long ElapsedSeconds { get; private set; }

    public int GpuCount { get; private set; }

    public decimal GpuHours { get; private set; }

    /// <summary>
    /// What the job costs in the program's unit, by the charge policy version in force at its end (<see cref="ChargePolicyId"/>);
    /// null for jobs recorded before charge rates, which were charged their GPU-hours (rate 1).
    /// </summary>
    public decimal? ChargedHours { get; private set; }

    /// <summary>The charge policy version that priced the job; null for the default rate 1 (no version set, or recorded before rates).</summary>
    public Guid? ChargePolicyId { get; private set; }

    public string State { get; private set; } = "";

    public DateTimeOffset ReceivedAt { get; private set; }

    /// <summary>The allocation charged; null while the record is unmatched.</summary>
    public Guid? AllocationId { get; private set; }

    private StoredUsageRecord()
    {
    }
}

public enum UnmatchedUsageStatus
{
    Open,
    Assigned,
    Dismissed,
}

/// <summary>
/// A job whose account matched no open allocation on its cluster: kept for an admin to assign or dismiss. Table
/// <c>unmatched_usage</c>, partitioned by month of the job's end like <c>usage_records</c>.
/// </summary>
public sealed class UnmatchedUsage
{
    public long Id { get; private set; }

    public Guid ClusterId { get; private set; }

    /// <summary>The job, with <see cref="ClusterId"/>, <see cref="SubmittedAt"/> and <see cref="EndedAt"/> the key of its <see cref="StoredUsageRecord"/>.</summary>
    public string JobId { get; private set; } = "";

    public DateTimeOffset? SubmittedAt { get; private set; }

    /// <summary>
    /// The job's end, as its <see cref="StoredUsageRecord"/> has it: part of the key and the partition key (for rows
    /// queued before it was kept, the end of the job's earliest record, or when it was received if none matched).
    /// </summary>
    public DateTimeOffset EndedAt { get; private set; }

    public string Account { get; private set; } = "";

    public decimal GpuHours { get; private set; }

    public DateTimeOffset ReceivedAt { get; private set; }

    public UnmatchedUsageStatus Status { get; private set; }

    /// <summary>Why it was not charged on arrival; null for usage kept before reasons were recorded.</summary>
    public UnmatchedReason? Reason { get; private set; }

    public Guid? AllocationId { get; private set; }

    public Guid? ResolvedBy { get; private set; }

    public DateTimeOffset? ResolvedAt { get; private set; }

    public string? Resolution { get; private set; }

    private UnmatchedUsage()
    {
    }

    /// <summary>The most a resolution note (an admin's reason) may hold.</summary>
    public const int MaxResolutionLength = 500;

    /// <summary>A dismissal's reason, trimmed; refused when empty or too long to keep with the usage.</summary>
    internal static string CheckReason(string? reason) => Reasons.Require(reason, MaxResolutionLength, "the usage's resolution");

    /// <summary>The reason in words, for the admins who resolve it.</summary>
    public static string Describe(UnmatchedReason? reason) => reason switch
    {
        UnmatchedReason.UnknownAccount => "no allocation with hours on this cluster has this account",
        UnmatchedReason.EndedBeforeStart => "ended before the allocation started",
        UnmatchedReason.EndedAfterEnd => "ended after the allocation ended",
        UnmatchedReason.AllocationClosed => "the allocation is expired or closed",
        _ => "not recorded",
    };

    /// <summary>Why nothing was resolved: an unknown row, or one an admin resolved before.</summary>
    internal static string NothingOpen(UnmatchedUsageStatus? status) => status is { } was
        ? $"This usage was already {was.ToString().ToLowerInvariant()}."
        : "No such unmatched usage.";
}

namespace Meta.ComputeAccess.Usage;

/// <summary>The two body formats of <c>POST /api/v1/usage</c>.</summary>
public enum UsageBodyFormat
{
    /// <summary><c>sacct --parsable2</c> output with its header line (<c>text/plain</c>).</summary>
    SacctParsable2,

    /// <summary>One JSON object per line with the sacct column names as keys (<c>application/x-ndjson</c>).</summary>
    JsonLines,
}

/// <summary>How to read a usage body.</summary>
public sealed record UsageParseOptions
{
    public static UsageParseOptions Default { get; } = new();

    /// <summary>
    /// The cluster's local time zone. sacct prints <c>2026-03-01T10:00:00</c> without a zone,
    /// in the time zone of the machine running it, so the caller must say which one that is.
    /// </summary>
    public TimeZoneInfo ClusterTimeZone { get; init; } = TimeZoneInfo.Utc;

    /// <summary>
    /// At most this many rejected lines are listed (all are counted): a garbage body of a
    /// million lines must not produce a million-entry answer.
    /// </summary>
    public int MaxRejectionsListed { get; init; } = 1000;
}

/// <summary>
/// One job from a usage body, independent of the cluster it came from.
/// </summary>
/// <param name="LineNumber">1-based line of the body the job was read from.</param>
/// <param name="JobId">Slurm's JobID as printed: <c>123</c>, array task <c>123_4</c>, het component <c>123+1</c>.</param>
/// <param name="Start">UTC, or null when sacct printed <c>Unknown</c>/<c>None</c>.</param>
/// <param name="End">UTC, or null for a job that has not ended.</param>
/// <param name="ElapsedSeconds">ElapsedRaw.</param>
/// <param name="GpuCount">GPUs allocated, from AllocTRES (see <see cref="SacctParser"/> for the rule).</param>
/// <param name="State">The state's first word, e.g. <c>CANCELLED</c> for <c>CANCELLED by 123</c>.</param>
public sealed record UsageRecord(
    int LineNumber,
    string JobId,
    string Account,
    string User,
    DateTimeOffset? Start,
    DateTimeOffset? End,
    long ElapsedSeconds,
    int GpuCount,
    string State)
{
    /// <summary>Exact GPU-seconds; sum these when exactness across many jobs matters.</summary>
    public long GpuSeconds => ElapsedSeconds * GpuCount;

    /// <summary>
    /// ElapsedRaw × GPUs / 3600, rounded half-to-even to 6 decimal places (3.6 ms of one GPU)
    /// so that it fits a <c>numeric(…, 6)</c> column exactly instead of carrying 28 digits of 1/3600.
    /// </summary>
    public decimal GpuHours => decimal.Round(GpuSeconds / 3600m, 6, MidpointRounding.ToEven);
}

/// <summary>A line that could not be used, with a reason a person can act on.</summary>
public sealed record RejectedLine(int LineNumber, string Reason);

/// <summary>A finished job that appeared again later in the same body; the later line wins.</summary>
public sealed record DuplicateJob(int LineNumber, string JobId, int SupersededByLine);

/// <summary>Everything read from one usage body.</summary>
/// <param name="HeaderAccepted">False when a sacct body's header lacks a required column; then nothing is taken.</param>
/// <param name="Chargeable">Finished jobs, one per job id, in body order.</param>
/// <param name="Pending">Jobs not finished yet (RUNNING, PENDING, …, or End <c>Unknown</c>): reported, not charged.</param>
/// <param name="Duplicates">Earlier lines of finished jobs that a later line of the same job id replaced.</param>
/// <param name="SkippedSteps">Job steps (<c>123.batch</c>, <c>123.0</c>, …): counted only, their job carries the charge.</param>
/// <param name="Rejected">Rejected lines, at most <see cref="UsageParseOptions.MaxRejectionsListed"/>.</param>
/// <param name="RejectedCount">All rejected lines, listed or not.</param>
/// <param name="LineCount">Lines read, including header and blank lines.</param>
public sealed record UsageParseResult(
    bool HeaderAccepted,
    IReadOnlyList<UsageRecord> Chargeable,
    IReadOnlyList<UsageRecord> Pending,
    IReadOnlyList<DuplicateJob> Duplicates,
    int SkippedSteps,
    IReadOnlyList<RejectedLine> Rejected,
    int RejectedCount,
    int LineCount);

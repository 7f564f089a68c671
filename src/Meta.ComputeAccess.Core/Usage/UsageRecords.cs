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

    /// <summary>
    /// The portal's clock when the body arrived; a finished job that ends more than <see cref="MaxClockSkew"/> after it
    /// is rejected. Null: no such check (a parser run outside a request).
    /// </summary>
    public DateTimeOffset? Now { get; init; }

    /// <summary>How far a job's End may lie ahead of <see cref="Now"/> (the cluster's clock may run a little fast).</summary>
    public TimeSpan MaxClockSkew { get; init; } = UsageOptions.DefaultMaxClockSkew;

    /// <summary>How much ElapsedRaw may exceed End − Start (sacct rounds each to the second, separately).</summary>
    public TimeSpan ElapsedSlack { get; init; } = UsageOptions.DefaultElapsedSlack;

    /// <summary>The cluster's GPUs (nodes × accelerators per node); a job with more is rejected. Null: no such check.</summary>
    public int? ClusterGpus { get; init; }
}

/// <summary>
/// What names one job of a cluster: Slurm's job id and, when the cluster sends it, the job's submit time. Ids come back
/// (after the controller loses its state, or when they wrap at MaxJobId); the submit time tells the jobs apart.
/// </summary>
/// <param name="JobId">Slurm's JobID as printed.</param>
/// <param name="Submit">UTC; null when the body had no <c>Submit</c> column (an older client) or sacct printed none.</param>
public readonly record struct JobKey(string JobId, DateTimeOffset? Submit);

/// <summary>
/// One job from a usage body, independent of the cluster it came from.
/// </summary>
/// <param name="LineNumber">1-based line of the body the job was read from.</param>
/// <param name="JobId">Slurm's JobID as printed: <c>123</c>, array task <c>123_4</c>, het component <c>123+1</c>.</param>
/// <param name="Submit">The job's submit time (UTC), or null when the body did not give it (see <see cref="JobKey"/>).</param>
/// <param name="User">The Slurm user who ran the job.</param>
/// <param name="Start">UTC, or null when sacct printed <c>Unknown</c>/<c>None</c>.</param>
/// <param name="End">UTC, or null for a job that has not ended.</param>
/// <param name="ElapsedSeconds">ElapsedRaw.</param>
/// <param name="GpuCount">GPUs allocated, from AllocTRES (see <see cref="SacctParser"/> for the rule).</param>
/// <param name="State">The state's first word, e.g. <c>CANCELLED</c> for <c>CANCELLED by 123</c>.</param>
/// <param name="Tres">AllocTRES as sent (interned: jobs of one shape share the string), which the cluster's charge policy prices.</param>
/// <param name="Partition">The job's partition (interned), empty when the body had no <c>Partition</c> column; partition multipliers use it.</param>
public sealed record UsageRecord(
    int LineNumber,
    string JobId,
    DateTimeOffset? Submit,
    string Account,
    string User,
    DateTimeOffset? Start,
    DateTimeOffset? End,
    long ElapsedSeconds,
    int GpuCount,
    string State,
    string Tres = "",
    string Partition = "")
{
    /// <summary>Exact GPU-seconds; sum these when exactness across many jobs matters.</summary>
    public long GpuSeconds => ElapsedSeconds * GpuCount;

    public JobKey Key => new(JobId, Submit);

    /// <summary>
    /// ElapsedRaw × GPUs / 3600, rounded half-to-even to 6 decimal places (3.6 ms of one GPU)
    /// so that it fits a <c>numeric(…, 6)</c> column exactly instead of carrying 28 digits of 1/3600.
    /// </summary>
    public decimal GpuHours => decimal.Round(GpuSeconds / 3600m, 6, MidpointRounding.ToEven);
}

/// <summary>A line that could not be used, with a reason a person can act on.</summary>
public sealed record RejectedLine(int LineNumber, string Reason);

/// <summary>A finished job (same id and submit time) that appeared again later in the same body; the later line wins.</summary>
public sealed record DuplicateJob(int LineNumber, string JobId, int SupersededByLine);

/// <summary>Everything read from one usage body.</summary>
/// <param name="HeaderAccepted">False when a sacct body's header lacks a required column; then nothing is taken.</param>
/// <param name="Chargeable">Finished jobs, one per <see cref="JobKey"/>, in body order.</param>
/// <param name="Pending">Jobs not finished yet (RUNNING, PENDING, …, or End <c>Unknown</c>): reported, not charged.</param>
/// <param name="Duplicates">Earlier lines of finished jobs that a later line of the same job (id and submit time) replaced.</param>
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

/// <summary>
/// Told of each finished job while a body is still being read (<see cref="SacctParser"/>), so that it can be stored as the
/// body arrives instead of after a second pass. Called on the parser's thread, in body order.
/// </summary>
public interface IUsageRecordSink
{
    /// <summary>A finished job (id and submit time) read for the first time in this body.</summary>
    void Add(UsageRecord record);

    /// <summary>A later line of a job already handed to <see cref="Add"/> replaces it (the later line wins).</summary>
    void Replaced(UsageRecord record);
}

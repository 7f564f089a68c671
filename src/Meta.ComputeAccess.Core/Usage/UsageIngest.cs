using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Meta.ComputeAccess.Usage;

/// <summary>The answer to one usage batch; every count is of lines or jobs in that batch.</summary>
/// <param name="Accepted">Finished jobs recorded for the first time (charged or unmatched).</param>
/// <param name="Charged">Of those, jobs charged to an allocation.</param>
/// <param name="Duplicate">Finished jobs already recorded earlier, or repeated later in the same batch: not charged again.</param>
/// <param name="Pending">Jobs not finished yet: not charged; send them again once they end.</param>
/// <param name="SkippedSteps">Job steps (<c>123.batch</c>, <c>123.0</c>): their job carries the charge.</param>
/// <param name="Unmatched">Jobs no open allocation pays for (unknown account, or an end outside the allocation's period): kept for the program's admins.</param>
public sealed record UsageIngestResult(
    int Accepted,
    int Charged,
    decimal ChargedGpuHours,
    int Duplicate,
    int Pending,
    int SkippedSteps,
    int Unmatched,
    int Rejected,
    IReadOnlyList<RejectedLine> Rejections)
{
    /// <summary>What the charged jobs cost in the program's unit, by their clusters' charge policies (<see cref="ChargedGpuHours"/> are the GPU-hours they ran).</summary>
    public decimal ChargedHours { get; init; }
}

/// <summary>
/// Reads a cluster's usage body (<see cref="ParseAsync"/>, with the cluster's time zone, size and the portal's clock) and
/// stores and charges it in ONE transaction (<see cref="IngestAsync"/>), holding a per-cluster advisory lock: finds which
/// of the batch's jobs are already recorded (keyed by cluster, job id and submit time, so a batch sent twice is charged
/// once and a new job with a reused id is charged), writes the new ones straight into <c>usage_records</c> with binary
/// COPY, charges those an allocation pays for (<see cref="AllocationMatcher"/>) to the ledger (one entry per allocation
/// and job-end day) and the cached quota, and keeps the rest as unmatched usage with the reason, also by COPY.
/// A failure anywhere rolls all of it back.
/// </summary>
/// <remarks>
/// The batch is already in memory (the parser needs all of it to let a later line of a job win), so matching and
/// totals are computed here; PostgreSQL only looks up the job ids and stores rows. An earlier version copied the
/// batch into a staging table and charged it with set-based SQL; it wrote every row twice and managed 63,000–83,000
/// records/s against 111,000–153,000 now (docs/performance.md).
/// </remarks>
public sealed partial class UsageIngest(PortalDbContext db, Notifier notifier, TimeProvider clock, IOptions<UsageOptions> options, ILogger<UsageIngest> log)
{
    /// <summary>
    /// Reads a body of <paramref name="clusterId"/>: times in its time zone, no job with more GPUs than it has, none
    /// ending beyond the portal's clock plus the allowed skew. Invalid UTF-8 throws <see cref="System.Text.DecoderFallbackException"/>.
    /// </summary>
    public async Task<UsageParseResult> ParseAsync(Guid clusterId, Stream body, UsageBodyFormat format, CancellationToken cancellationToken = default)
    {
        var cluster = await db.Clusters.AsNoTracking().Where(c => c.Id == clusterId)
            .Select(c => new { c.TimeZoneId, Gpus = c.Nodes * c.AcceleratorsPerNode }).SingleAsync(cancellationToken);
        var parseOptions = UsageParseOptions.Default with
        {
            // sacct prints local times without an offset: they are read in the cluster's time zone (Admin → Clusters).
            ClusterTimeZone = TimeZoneInfo.TryFindSystemTimeZoneById(cluster.TimeZoneId, out var zone) ? zone : TimeZoneInfo.Utc,
            ClusterGpus = cluster.Gpus,
            Now = clock.GetUtcNow(),
            MaxClockSkew = options.Value.MaxClockSkew,
            ElapsedSlack = options.Value.ElapsedSlack,
        };
        return await SacctParser.ParseAsync(body, format, parseOptions, cancellationToken);
    }

    public async Task<UsageIngestResult> IngestAsync(Guid clusterId, UsageParseResult parsed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        var now = clock.GetUtcNow();
        // What the columns cannot hold is rejected here, with its line, instead of failing the whole batch.
        var rejections = parsed.Rejected.ToList();
        var rejectedCount = parsed.RejectedCount;
        var records = parsed.Chargeable;
        if (records.Any(r => Unstorable(r) is not null))
        {
            var kept = new List<UsageRecord>(records.Count);
            foreach (var r in records)
            {
                if (Unstorable(r) is { } reason)
                {
                    rejectedCount++;
                    rejections.Add(new RejectedLine(r.LineNumber, reason));
                }
                else
                {
                    kept.Add(r);
                }
            }
            records = kept;
            rejections.Sort((a, b) => a.LineNumber.CompareTo(b.LineNumber));
        }
        var batch = new Charges();
        long lookupMs = 0, writeMs = 0;
        if (records.Count > 0)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            // Its own transaction, or the caller's when there is one (the demo seed charges inside the seed's).
            await using var tx = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            // One batch per cluster at a time: between the lookup of known jobs and the COPY nobody else may record
            // this cluster's jobs. The primary key still refuses a second copy of a job should that rule be broken.
            await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(hashtextextended('usage-ingest:' || @cluster::text, 0))", clusterId, cancellationToken);
            var matcher = await AllocationMatcher.LoadAsync(db, clusterId, cancellationToken);
            // The cluster's rates, read once for the batch; each job is priced by the version in force at its end.
            var prices = await ChargePolicies.SetForAsync(db, clusterId, cancellationToken);
            var known = await KnownJobsAsync(connection, clusterId, records, cancellationToken);
            lookupMs = watch.ElapsedMilliseconds;

            batch = Charges.Of(records, known, matcher, prices);
            await CopyRecordsAsync(connection, clusterId, batch, now, cancellationToken);
            await batch.Ledger.WriteAsync(connection, clusterId, now, actor: null, cancellationToken);
            await CopyUnmatchedAsync(connection, clusterId, batch.Unmatched, now, cancellationToken);
            if (batch.Unmatched.Count > 0)
            {
                // Admins hear of usage nobody is charged for, in the same transaction as the batch.
                var cluster = await db.Clusters.Where(c => c.Id == clusterId).Select(c => c.Name).SingleAsync(cancellationToken);
                await notifier.NotifyAdminsAsync(NotificationKinds.AdminUnmatchedUsage, cluster, "/Admin/Usage/Unmatched",
                    new Dictionary<string, string> { ["count"] = batch.Unmatched.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) }, cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
            }
            if (tx is not null)
            {
                await tx.CommitAsync(cancellationToken);
            }
            writeMs = watch.ElapsedMilliseconds - lookupMs;
        }
        var accepted = batch.New.Count;
        var duplicate = records.Count - accepted + parsed.Duplicates.Count;
        LogIngested(clusterId, accepted, batch.ChargedJobs, duplicate, batch.Unmatched.Count, rejectedCount, lookupMs, writeMs);
        return new UsageIngestResult(accepted, batch.ChargedJobs, batch.ChargedGpuHours, duplicate, parsed.Pending.Count, parsed.SkippedSteps,
            batch.Unmatched.Count, rejectedCount, rejections)
        { ChargedHours = batch.ChargedHours };
    }

    /// <summary>
    /// Which of the batch's jobs this cluster has already reported, by position in <paramref name="records"/>: the
    /// recorded jobs with the batch's ids (one index probe per id; only the ids travel), matched here. A job is known
    /// when a recorded job has its id and
    /// <list type="bullet">
    /// <item>the same submit time; or</item>
    /// <item>the batch gives no submit time (an older client: any job with that id, the rule before submit times were kept); or</item>
    /// <item>no submit time was recorded (it came from an older client) and it had not ended before this one was
    /// submitted: two jobs that share an id never overlap, since Slurm reuses an id only after its job is gone.</item>
    /// </list>
    /// </summary>
    private static async Task<bool[]> KnownJobsAsync(NpgsqlConnection connection, Guid clusterId, IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        var ids = new string[records.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = records[i].JobId;
        }
        await using var command = new NpgsqlCommand("""
            SELECT s.i, u.submitted_at, u.ended_at FROM unnest(@ids) WITH ORDINALITY AS s(job_id, i)
            JOIN usage_records u ON u.cluster_id = @cluster AND u.job_id = s.job_id
            """, connection)
        { CommandTimeout = 600 };
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = ids });
        var known = new bool[records.Count];
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var i = (int)reader.GetInt64(0) - 1;
            var submitted = records[i].Submit;
            DateTimeOffset? recordedSubmit = reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1);
            known[i] |= submitted is null || recordedSubmit == submitted
                || (recordedSubmit is null && reader.GetFieldValue<DateTimeOffset>(2) >= submitted);
        }
        return known;
    }

    private static async Task CopyRecordsAsync(NpgsqlConnection connection, Guid clusterId, Charges batch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (batch.New.Count == 0)
        {
            return;
        }
        await using var copy = await connection.BeginBinaryImportAsync("""
            COPY usage_records (cluster_id, job_id, submitted_at, account, user_name, started_at, ended_at, elapsed_seconds, gpu_count, gpu_hours, charged_hours, charge_policy_id, state, received_at, allocation_id)
            FROM STDIN (FORMAT BINARY)
            """, cancellationToken);
        copy.Timeout = TimeSpan.FromMinutes(10);
        // Synchronous writes: they fill Npgsql's buffer and flush only when it is full; an await per field costs
        // more than the copy itself.
        for (var i = 0; i < batch.New.Count; i++)
        {
            var r = batch.New[i];
            copy.StartRow();
            copy.Write(clusterId, NpgsqlDbType.Uuid);
            copy.Write(r.JobId, NpgsqlDbType.Varchar);
            WriteTime(copy, r.Submit);
            copy.Write(r.Account, NpgsqlDbType.Varchar);
            copy.Write(r.User, NpgsqlDbType.Varchar);
            WriteTime(copy, r.Start);
            copy.Write(r.End!.Value, NpgsqlDbType.TimestampTz);
            copy.Write(r.ElapsedSeconds, NpgsqlDbType.Bigint);
            copy.Write(r.GpuCount, NpgsqlDbType.Integer);
            copy.Write(r.GpuHours, NpgsqlDbType.Numeric);
            copy.Write(batch.ChargedOf[i], NpgsqlDbType.Numeric);
            if (batch.PolicyOf[i] is { } policyId)
            {
                copy.Write(policyId, NpgsqlDbType.Uuid);
            }
            else
            {
                copy.WriteNull();
            }
            copy.Write(r.State, NpgsqlDbType.Varchar);
            copy.Write(now, NpgsqlDbType.TimestampTz);
            if (batch.AllocationOf[i] is { } allocationId)
            {
                copy.Write(allocationId, NpgsqlDbType.Uuid);
            }
            else
            {
                copy.WriteNull();
            }
        }
        await copy.CompleteAsync(cancellationToken);
    }

    private static void WriteTime(NpgsqlBinaryImporter copy, DateTimeOffset? time)
    {
        if (time is { } value)
        {
            copy.Write(value, NpgsqlDbType.TimestampTz);
        }
        else
        {
            copy.WriteNull();
        }
    }

    private static async Task CopyUnmatchedAsync(NpgsqlConnection connection, Guid clusterId, IReadOnlyList<(UsageRecord Job, UnmatchedReason Reason)> unmatched, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (unmatched.Count == 0)
        {
            return;
        }
        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY unmatched_usage (cluster_id, job_id, submitted_at, account, gpu_hours, received_at, status, reason) FROM STDIN (FORMAT BINARY)", cancellationToken);
        copy.Timeout = TimeSpan.FromMinutes(10);
        var open = nameof(UnmatchedUsageStatus.Open);
        foreach (var (r, reason) in unmatched)
        {
            copy.StartRow();
            copy.Write(clusterId, NpgsqlDbType.Uuid);
            copy.Write(r.JobId, NpgsqlDbType.Varchar);
            WriteTime(copy, r.Submit);
            copy.Write(r.Account, NpgsqlDbType.Varchar);
            copy.Write(r.GpuHours, NpgsqlDbType.Numeric);
            copy.Write(now, NpgsqlDbType.TimestampTz);
            copy.Write(open, NpgsqlDbType.Text);
            copy.Write(reason.ToString(), NpgsqlDbType.Varchar);
        }
        await copy.CompleteAsync(cancellationToken);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, Guid clusterId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("cluster", clusterId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>What one batch records and charges, worked out before anything is written.</summary>
    private sealed class Charges(int capacity = 0)
    {
        /// <summary>Jobs not recorded before, in body order.</summary>
        public List<UsageRecord> New { get; } = new(capacity);

        /// <summary>For each of <see cref="New"/>, the allocation charged, or null when unmatched.</summary>
        public List<Guid?> AllocationOf { get; } = new(capacity);

        /// <summary>For each of <see cref="New"/>, its price in the program's unit (kept for unmatched jobs too, should an admin assign them).</summary>
        public List<decimal> ChargedOf { get; } = new(capacity);

        /// <summary>For each of <see cref="New"/>, the charge policy version that priced it (null: the default rate 1).</summary>
        public List<Guid?> PolicyOf { get; } = new(capacity);

        public List<(UsageRecord Job, UnmatchedReason Reason)> Unmatched { get; } = [];

        /// <summary>The ledger entries of the matched jobs (one per allocation and day).</summary>
        public UsageCharges Ledger { get; } = new();

        public int ChargedJobs { get; private set; }

        /// <summary>In the program's unit.</summary>
        public decimal ChargedHours { get; private set; }

        public decimal ChargedGpuHours { get; private set; }

        public static Charges Of(IReadOnlyList<UsageRecord> records, bool[] known, AllocationMatcher matcher, ChargePolicySet prices)
        {
            // Sized for the batch: most of its jobs are new.
            var charges = new Charges(records.Count);
            for (var i = 0; i < records.Count; i++)
            {
                if (known[i])
                {
                    continue;
                }
                var r = records[i];
                charges.New.Add(r);
                var hours = prices.Price(r.End!.Value, r.ElapsedSeconds, r.Tres, r.Partition, out var policyId);
                charges.ChargedOf.Add(hours);
                charges.PolicyOf.Add(policyId);
                if (matcher.Match(r.Account, r.End!.Value, out var reason) is not { } allocationId)
                {
                    charges.AllocationOf.Add(null);
                    charges.Unmatched.Add((r, reason));
                    continue;
                }
                charges.AllocationOf.Add(allocationId);
                charges.ChargedJobs++;
                charges.ChargedHours += hours;
                charges.ChargedGpuHours += r.GpuHours;
                charges.Ledger.Add(allocationId, r.JobId, r.Submit, hours, r.End.Value, policyId);
            }
            return charges;
        }
    }

    /// <summary>Why a parsed job cannot be stored (column sizes of usage_records), or null.</summary>
    private static string? Unstorable(UsageRecord r)
    {
        if (r.JobId.Length > 64 || r.Account.Length > 128 || r.User.Length > 128 || r.State.Length > 32)
        {
            return "a field is too long (JobID ≤ 64, Account and User ≤ 128, State ≤ 32 characters)";
        }
        if (r.JobId.Contains('\0', StringComparison.Ordinal) || r.Account.Contains('\0', StringComparison.Ordinal) || r.User.Contains('\0', StringComparison.Ordinal))
        {
            return "a field contains a NUL character";
        }
        return r.GpuHours >= 1_000_000_000_000m ? "implausible GPU-hours (ElapsedRaw × GPUs is too large)" : null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Usage batch for cluster {ClusterId}: {Accepted} new jobs, {Charged} charged, {Duplicate} duplicates, {Unmatched} unmatched, {Rejected} rejected lines; lookup {LookupMs} ms, copy, charge and commit {WriteMs} ms")]
    private partial void LogIngested(Guid clusterId, int accepted, int charged, int duplicate, int unmatched, int rejected, long lookupMs, long writeMs);
}

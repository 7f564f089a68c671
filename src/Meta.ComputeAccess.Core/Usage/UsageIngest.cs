using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using System.Diagnostics;
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

/// <summary>What one body posted to the usage API came to.</summary>
/// <param name="Parsed">What was read from it.</param>
/// <param name="Ingested">What was recorded and charged; null when nothing could be (the sacct header lacks a column).</param>
/// <param name="Streamed">Whether the jobs were written as the body arrived, rather than looked up and written after it (the answer is the same).</param>
public sealed record UsageReceipt(UsageParseResult Parsed, UsageIngestResult? Ingested, bool Streamed);

/// <summary>
/// Stores and charges a cluster's usage in ONE transaction, holding a per-cluster advisory lock. A job is known (answered
/// "duplicate", not charged again) when the cluster reported it before: same job id, submit time and end (the key of
/// <c>usage_records</c>, whose partitions are months of the end), or by the older rules for jobs without a submit time
/// (<see cref="KnownJobsCommand"/>). New jobs go straight into <c>usage_records</c> with binary COPY; those an allocation pays
/// for (<see cref="AllocationMatcher"/>) are charged to the ledger (one entry per allocation and job-end day) and the cached
/// quota, the rest kept as unmatched usage with the reason. A failure anywhere rolls all of it back.
/// </summary>
/// <remarks>
/// <para><see cref="ReceiveAsync"/> (the API) streams: the parser hands each finished job over as its line arrives and the job
/// is COPYed at once, while the rest of the body is still being uploaded, so parsing and writing overlap and no pass is made
/// over the batch after the body ends. The first <see cref="UsageOptions.StreamProbeJobs"/> jobs are looked up before the COPY
/// begins (a batch sent again, or overlapping the last one, starts with known jobs); the unique key refuses any later known job,
/// which, like a job repeated later in the same body (the later line wins), a job without a submit time or a cluster with jobs
/// recorded without one, sends the batch down the buffered path: rollback to a savepoint, look up every job, COPY the new ones.
/// Both paths answer the same.</para>
/// <para><see cref="IngestAsync"/> is the buffered path on a body already read (<see cref="ParseAsync"/>), for callers that
/// have one (the demo seed). An earlier version copied the batch into a staging table and charged it with set-based SQL; it
/// wrote every row twice (docs/performance.md).</para>
/// </remarks>
public sealed partial class UsageIngest(PortalDbContext db, Notifier notifier, TimeProvider clock, IOptions<UsageOptions> options, ILogger<UsageIngest> log)
{
    /// <summary>
    /// Reads a body of <paramref name="clusterId"/>: times in its time zone, no job with more GPUs than it has, none
    /// ending beyond the portal's clock plus the allowed skew. Invalid UTF-8 throws <see cref="System.Text.DecoderFallbackException"/>.
    /// </summary>
    public async Task<UsageParseResult> ParseAsync(Guid clusterId, Stream body, UsageBodyFormat format, CancellationToken cancellationToken = default) =>
        await SacctParser.ParseAsync(body, format, await ParseOptionsAsync(clusterId, clock.GetUtcNow(), cancellationToken), cancellationToken);

    private async Task<UsageParseOptions> ParseOptionsAsync(Guid clusterId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var cluster = await db.Clusters.AsNoTracking().Where(c => c.Id == clusterId)
            .Select(c => new { c.TimeZoneId, Gpus = c.Nodes * c.AcceleratorsPerNode }).SingleAsync(cancellationToken);
        return UsageParseOptions.Default with
        {
            // sacct prints local times without an offset: they are read in the cluster's time zone (Admin → Clusters).
            ClusterTimeZone = TimeZoneInfo.TryFindSystemTimeZoneById(cluster.TimeZoneId, out var zone) ? zone : TimeZoneInfo.Utc,
            ClusterGpus = cluster.Gpus,
            Now = now,
            MaxClockSkew = options.Value.MaxClockSkew,
            ElapsedSlack = options.Value.ElapsedSlack,
        };
    }

    /// <summary>
    /// Reads <paramref name="body"/> and records it as it arrives (see the remarks), in one transaction that commits only once
    /// the whole body was read: invalid UTF-8 (<see cref="System.Text.DecoderFallbackException"/>), a body over the size
    /// limit or a dropped connection anywhere leaves nothing recorded.
    /// </summary>
    public async Task<UsageReceipt> ReceiveAsync(Guid clusterId, Stream body, UsageBodyFormat format, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var parseOptions = await ParseOptionsAsync(clusterId, now, cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var (connection, matcher, prices, legacy) = await OpenBatchAsync(clusterId, cancellationToken);
        var watch = Stopwatch.StartNew();
        await using var stream = new StreamingCopy(connection, clusterId, matcher, prices, now, legacy ? 0 : options.Value.StreamProbeJobs);
        var parsed = await SacctParser.ParseAsync(body, format, parseOptions, stream, cancellationToken);
        if (!parsed.HeaderAccepted)
        {
            return new UsageReceipt(parsed, null, Streamed: false);
        }
        var readMs = watch.ElapsedMilliseconds;
        var streamed = await stream.CompleteAsync(cancellationToken);
        var result = await RecordAsync(connection, clusterId, parsed, streamed, legacy, matcher, prices, now, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        LogIngested(clusterId, result.Accepted, result.Charged, result.Duplicate, result.Unmatched, result.Rejected, streamed is not null, readMs, watch.ElapsedMilliseconds - readMs);
        return new UsageReceipt(parsed, result, streamed is not null);
    }

    /// <summary>Records a body read before (the buffered path), in its own transaction or the caller's when there is one.</summary>
    public async Task<UsageIngestResult> IngestAsync(Guid clusterId, UsageParseResult parsed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        var now = clock.GetUtcNow();
        var watch = Stopwatch.StartNew();
        // Its own transaction, or the caller's when there is one (the demo seed charges inside the seed's).
        await using var tx = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        var (connection, matcher, prices, legacy) = await OpenBatchAsync(clusterId, cancellationToken);
        var result = await RecordAsync(connection, clusterId, parsed, streamed: null, legacy, matcher, prices, now, cancellationToken);
        if (tx is not null)
        {
            await tx.CommitAsync(cancellationToken);
        }
        LogIngested(clusterId, result.Accepted, result.Charged, result.Duplicate, result.Unmatched, result.Rejected, false, 0, watch.ElapsedMilliseconds);
        return result;
    }

    /// <summary>
    /// What both paths read first, inside the batch's transaction: the cluster's ingest lock, its allocations to match, its
    /// rates (read once for the batch; each job is priced by the version in force at its end) and whether it has jobs
    /// recorded without a submit time.
    /// </summary>
    private async Task<(NpgsqlConnection Connection, AllocationMatcher Matcher, ChargePolicySet Prices, bool Legacy)> OpenBatchAsync(Guid clusterId, CancellationToken cancellationToken)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await LockAsync(connection, clusterId, cancellationToken);
        var matcher = await AllocationMatcher.LoadAsync(db, clusterId, cancellationToken);
        var prices = await ChargePolicies.SetForAsync(db, clusterId, cancellationToken);
        return (connection, matcher, prices, await HasJobsWithoutSubmitTimeAsync(connection, clusterId, cancellationToken));
    }

    /// <summary>
    /// One batch per cluster at a time: between the lookup of known jobs and the COPY nobody else may record this cluster's
    /// jobs. The unique key still refuses a second copy of a job should that rule be broken.
    /// </summary>
    private static Task LockAsync(NpgsqlConnection connection, Guid clusterId, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(hashtextextended('usage-ingest:' || @cluster::text, 0))", clusterId, cancellationToken);

    /// <summary>Whether the cluster has jobs recorded without a submit time (from older clients): then the older matching rule applies.</summary>
    private static async Task<bool> HasJobsWithoutSubmitTimeAsync(NpgsqlConnection connection, Guid clusterId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT EXISTS (SELECT FROM usage_records WHERE cluster_id = @cluster AND submitted_at IS NULL)", connection);
        command.Parameters.AddWithValue("cluster", clusterId);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Rejects what the columns cannot hold, then, unless <paramref name="streamed"/> already wrote the batch, looks up the
    /// known jobs and COPYs the new ones; charges the ledger and keeps the unmatched jobs. Inside the caller's transaction.
    /// </summary>
    private async Task<UsageIngestResult> RecordAsync(NpgsqlConnection connection, Guid clusterId, UsageParseResult parsed, Charges? streamed, bool legacy,
        AllocationMatcher matcher, ChargePolicySet prices, DateTimeOffset now, CancellationToken cancellationToken)
    {
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
        var batch = streamed ?? new Charges();
        if (streamed is null && records.Count > 0)
        {
            var known = await KnownJobsAsync(connection, clusterId, records, legacy, cancellationToken);
            batch = Charges.Of(records, known, matcher, prices);
            await CopyRecordsAsync(connection, clusterId, batch, now, cancellationToken);
        }
        if (batch.New.Count > 0)
        {
            await batch.Ledger.WriteAsync(connection, clusterId, now, actor: null, cancellationToken);
            await CopyUnmatchedAsync(connection, clusterId, batch.Unmatched, now, cancellationToken);
        }
        if (batch.Unmatched.Count > 0)
        {
            // Admins hear of usage nobody is charged for, in the same transaction as the batch.
            var cluster = await db.Clusters.Where(c => c.Id == clusterId).Select(c => c.Name).SingleAsync(cancellationToken);
            await notifier.NotifyAdminsAsync(NotificationKinds.AdminUnmatchedUsage, cluster, "/Admin/Usage/Unmatched",
                new Dictionary<string, string> { ["count"] = batch.Unmatched.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }
        var accepted = batch.New.Count;
        var duplicate = records.Count - accepted + parsed.Duplicates.Count;
        return new UsageIngestResult(accepted, batch.ChargedJobs, batch.ChargedGpuHours, duplicate, parsed.Pending.Count, parsed.SkippedSteps,
            batch.Unmatched.Count, rejectedCount, rejections)
        { ChargedHours = batch.ChargedHours };
    }

    /// <summary>
    /// The lookup of known jobs, by position in <paramref name="records"/>: one index probe in the partition of the job's end
    /// (pruned at run time; a job sent again is found there). A job is known when a recorded job of the cluster has its id and
    /// <list type="bullet">
    /// <item>the same submit time and end (the table's unique key: a job's End is final once Slurm reports it finished, and is
    /// printed in the same time zone as its Submit, so a job sent again carries both unchanged and lands in the same partition);</item>
    /// <item>or the batch gives no submit time (an older client: any job with that id, the rule before submit times were kept);</item>
    /// <item>or no submit time was recorded (it came from an older client, <paramref name="legacy"/>) and it had not ended
    /// before this one was submitted: two jobs that share an id never overlap, since Slurm reuses an id only after its job is gone.</item>
    /// </list>
    /// </summary>
    private static NpgsqlCommand KnownJobsCommand(NpgsqlConnection connection, Guid clusterId, IReadOnlyList<UsageRecord> records, bool legacy)
    {
        var ids = new string[records.Count];
        var submits = new DateTimeOffset?[records.Count];
        var ends = new DateTimeOffset[records.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = records[i].JobId;
            submits[i] = records[i].Submit;
            ends[i] = records[i].End!.Value;
        }
        var command = new NpgsqlCommand("""
            SELECT s.i FROM unnest(@ids, @submits, @ends) WITH ORDINALITY AS s(job_id, submitted_at, ended_at, i)
            WHERE EXISTS (
                    SELECT FROM usage_records u
                    WHERE u.cluster_id = @cluster AND u.job_id = s.job_id AND u.submitted_at = s.submitted_at AND u.ended_at = s.ended_at)
               OR (s.submitted_at IS NULL AND EXISTS (SELECT FROM usage_records u WHERE u.cluster_id = @cluster AND u.job_id = s.job_id))
               OR (@legacy AND EXISTS (
                    SELECT FROM usage_records u
                    WHERE u.cluster_id = @cluster AND u.job_id = s.job_id AND u.submitted_at IS NULL AND u.ended_at >= s.submitted_at))
            """, connection)
        { CommandTimeout = 600 };
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("legacy", legacy);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = ids });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset?[]>("submits", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = submits });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("ends", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = ends });
        return command;
    }

    private static async Task<bool[]> KnownJobsAsync(NpgsqlConnection connection, Guid clusterId, IReadOnlyList<UsageRecord> records, bool legacy, CancellationToken cancellationToken)
    {
        await using var command = KnownJobsCommand(connection, clusterId, records, legacy);
        var known = new bool[records.Count];
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            known[reader.GetInt64(0) - 1] = true;
        }
        return known;
    }

    private const string CopyRecordsSql = """
        COPY usage_records (cluster_id, job_id, submitted_at, account, user_name, started_at, ended_at, elapsed_seconds, gpu_count, gpu_hours, charged_hours, charge_policy_id, state, received_at, allocation_id)
        FROM STDIN (FORMAT BINARY)
        """;

    private static async Task CopyRecordsAsync(NpgsqlConnection connection, Guid clusterId, Charges batch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (batch.New.Count == 0)
        {
            return;
        }
        await using var copy = await connection.BeginBinaryImportAsync(CopyRecordsSql, cancellationToken);
        copy.Timeout = TimeSpan.FromMinutes(10);
        for (var i = 0; i < batch.New.Count; i++)
        {
            WriteRecord(copy, clusterId, batch, i, now);
        }
        await copy.CompleteAsync(cancellationToken);
    }

    /// <summary>
    /// Row <paramref name="i"/> of <paramref name="batch"/> into <c>usage_records</c>. Synchronous writes: they fill Npgsql's
    /// buffer and flush only when it is full; an await per field costs more than the copy itself.
    /// </summary>
    private static void WriteRecord(NpgsqlBinaryImporter copy, Guid clusterId, Charges batch, int i, DateTimeOffset now)
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
        if (batch.AllocationOf[i] is { } id)
        {
            copy.Write(id, NpgsqlDbType.Uuid);
        }
        else
        {
            copy.WriteNull();
        }
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

    /// <summary>
    /// Queues the unmatched jobs for an admin, each in the partition of its end's month. The queue is keyed as usage_records
    /// is (cluster, id, submit time and end): a job queued before keeps its row, while a job reported again with another End
    /// (a hand edit of Slurm's records) is another report, queued as well.
    /// </summary>
    private static async Task CopyUnmatchedAsync(NpgsqlConnection connection, Guid clusterId, IReadOnlyList<(UsageRecord Job, UnmatchedReason Reason)> unmatched, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (unmatched.Count == 0)
        {
            return;
        }
        var ids = new string[unmatched.Count];
        var submits = new DateTimeOffset?[unmatched.Count];
        var ends = new DateTimeOffset[unmatched.Count];
        var accounts = new string[unmatched.Count];
        var hours = new decimal[unmatched.Count];
        var reasons = new string[unmatched.Count];
        for (var i = 0; i < unmatched.Count; i++)
        {
            var (r, reason) = unmatched[i];
            ids[i] = r.JobId;
            submits[i] = r.Submit;
            ends[i] = r.End!.Value;
            accounts[i] = r.Account;
            hours[i] = r.GpuHours;
            reasons[i] = reason.ToString();
        }
        await using var command = new NpgsqlCommand("""
            INSERT INTO unmatched_usage (cluster_id, job_id, submitted_at, ended_at, account, gpu_hours, received_at, status, reason)
            SELECT @cluster, u.job_id, u.submitted_at, u.ended_at, u.account, u.gpu_hours, @now, @open, u.reason
            FROM unnest(@ids, @submits, @ends, @accounts, @hours, @reasons) AS u(job_id, submitted_at, ended_at, account, gpu_hours, reason)
            ON CONFLICT DO NOTHING
            """, connection)
        { CommandTimeout = 600 };
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("open", nameof(UnmatchedUsageStatus.Open));
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = ids });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset?[]>("submits", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = submits });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("ends", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = ends });
        command.Parameters.Add(new NpgsqlParameter<string[]>("accounts", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = accounts });
        command.Parameters.Add(new NpgsqlParameter<decimal[]>("hours", NpgsqlDbType.Array | NpgsqlDbType.Numeric) { TypedValue = hours });
        command.Parameters.Add(new NpgsqlParameter<string[]>("reasons", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = reasons });
        await command.ExecuteNonQueryAsync(cancellationToken);
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
                if (!known[i])
                {
                    charges.Add(records[i], matcher, prices);
                }
            }
            return charges;
        }

        /// <summary>Takes a job not recorded before, priced by the rates in force at its end; returns its position in <see cref="New"/>.</summary>
        public int Add(UsageRecord r, AllocationMatcher matcher, ChargePolicySet prices)
        {
            New.Add(r);
            var hours = prices.Price(r.End!.Value, r.ElapsedSeconds, r.Tres, r.Partition, out var policyId);
            ChargedOf.Add(hours);
            PolicyOf.Add(policyId);
            if (matcher.Match(r.Account, r.End.Value, out var reason) is not { } allocationId)
            {
                AllocationOf.Add(null);
                Unmatched.Add((r, reason));
                return New.Count - 1;
            }
            AllocationOf.Add(allocationId);
            ChargedJobs++;
            ChargedHours += hours;
            ChargedGpuHours += r.GpuHours;
            Ledger.Add(allocationId, r.JobId, r.Submit, hours, r.End.Value, policyId, r.User, r.GpuHours);
            return New.Count - 1;
        }
    }

    /// <summary>
    /// The streaming path of <see cref="ReceiveAsync"/>: takes each finished job from the parser as its line arrives and COPYs
    /// it into <c>usage_records</c> at once, after a savepoint. <see cref="CompleteAsync"/> answers the batch it wrote, or null
    /// (after rolling back to the savepoint) when the batch must take the buffered path instead; see the class remarks.
    /// </summary>
    private sealed class StreamingCopy(NpgsqlConnection connection, Guid clusterId, AllocationMatcher matcher, ChargePolicySet prices, DateTimeOffset now, int probeJobs)
        : IUsageRecordSink, IAsyncDisposable
    {
        private const string Savepoint = "usage_stream";
        private readonly List<UsageRecord> _probe = [];
        private readonly Charges _batch = new();
        private NpgsqlBinaryImporter? _copy;
        private bool _abandoned = probeJobs <= 0;

        public void Add(UsageRecord record)
        {
            if (_abandoned)
            {
                return;
            }
            if (record.Submit is null)
            {
                // Without a submit time any recorded job with the id is this one: only the lookup can tell.
                Abandon();
                return;
            }
            if (Unstorable(record) is not null)
            {
                return; // rejected with its line once the body is read
            }
            if (_copy is not null)
            {
                WriteRecord(_copy, clusterId, _batch, _batch.Add(record, matcher, prices), now);
                return;
            }
            _probe.Add(record);
            if (_probe.Count < probeJobs)
            {
                return;
            }
            // The first jobs decide: a batch sent again, or one overlapping the last, starts with jobs already recorded.
            if (FindKnown(_probe))
            {
                Abandon();
                return;
            }
            using (var savepoint = new NpgsqlCommand($"SAVEPOINT {Savepoint}", connection))
            {
                savepoint.ExecuteNonQuery();
            }
            _copy = connection.BeginBinaryImport(CopyRecordsSql);
            _copy.Timeout = TimeSpan.FromMinutes(10);
            foreach (var r in _probe)
            {
                WriteRecord(_copy, clusterId, _batch, _batch.Add(r, matcher, prices), now);
            }
            _probe.Clear();
        }

        /// <summary>The later line wins, but the earlier one is already written: the batch takes the buffered path.</summary>
        public void Replaced(UsageRecord record) => Abandon();

        private void Abandon()
        {
            _abandoned = true;
            _probe.Clear();
        }

        private bool FindKnown(IReadOnlyList<UsageRecord> records)
        {
            using var command = KnownJobsCommand(connection, clusterId, records, legacy: false);
            using var reader = command.ExecuteReader();
            return reader.Read();
        }

        /// <summary>
        /// Ends the COPY. The batch as written, or null when it was not streamed (fewer jobs than the probe, or abandoned) or a
        /// job turned out to be known (the unique key refused it).
        /// </summary>
        public async Task<Charges?> CompleteAsync(CancellationToken cancellationToken)
        {
            if (_copy is not { } copy)
            {
                return null;
            }
            try
            {
                if (!_abandoned)
                {
                    await copy.CompleteAsync(cancellationToken);
                    // The connection leaves the COPY only once the importer is disposed.
                    await copy.DisposeAsync();
                    return _batch;
                }
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // A job recorded before, with the same end: looked up with the rest by the buffered path.
            }
            finally
            {
                _copy = null;
                await copy.DisposeAsync();
            }
            await using var rollback = new NpgsqlCommand($"ROLLBACK TO SAVEPOINT {Savepoint}", connection);
            await rollback.ExecuteNonQueryAsync(cancellationToken);
            return null;
        }

        /// <summary>An unfinished COPY (the body failed to arrive) is cancelled; the caller's transaction rolls the rest back.</summary>
        public async ValueTask DisposeAsync()
        {
            if (_copy is not null)
            {
                await _copy.DisposeAsync();
            }
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Usage batch for cluster {ClusterId}: {Accepted} new jobs, {Charged} charged, {Duplicate} duplicates, {Unmatched} unmatched, {Rejected} rejected lines; streamed {Streamed}; body read in {ReadMs} ms, then {WriteMs} ms to look up, copy, charge and commit")]
    private partial void LogIngested(Guid clusterId, int accepted, int charged, int duplicate, int unmatched, int rejected, bool streamed, long readMs, long writeMs);
}

using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Meta.ComputeAccess.Usage;

/// <summary>The answer to one usage batch; every count is of lines or jobs in that batch.</summary>
/// <param name="Accepted">Finished jobs recorded for the first time (charged or unmatched).</param>
/// <param name="Charged">Of those, jobs charged to an allocation.</param>
/// <param name="Duplicate">Finished jobs already recorded earlier, or repeated later in the same batch: not charged again.</param>
/// <param name="Pending">Jobs not finished yet: not charged; send them again once they end.</param>
/// <param name="SkippedSteps">Job steps (<c>123.batch</c>, <c>123.0</c>): their job carries the charge.</param>
/// <param name="Unmatched">Jobs whose account has no open allocation on this cluster: kept for the program's admins.</param>
public sealed record UsageIngestResult(
    int Accepted,
    int Charged,
    decimal ChargedGpuHours,
    int Duplicate,
    int Pending,
    int SkippedSteps,
    int Unmatched,
    int Rejected,
    IReadOnlyList<RejectedLine> Rejections);

/// <summary>
/// Stores and charges a parsed usage batch in ONE transaction, holding a per-cluster advisory lock: finds which of
/// the batch's jobs are already recorded (keyed by cluster + job id, so a batch sent twice is charged once), writes
/// the new ones straight into <c>usage_records</c> with binary COPY, charges matched ones to the ledger (one entry per
/// allocation and job-end day) and the cached quota, and keeps the rest as unmatched usage, also by COPY.
/// A failure anywhere rolls all of it back.
/// </summary>
/// <remarks>
/// The batch is already in memory (the parser needs all of it to let a later line of a job win), so matching and
/// totals are computed here; PostgreSQL only looks up the job ids and stores rows. An earlier version copied the
/// batch into a staging table and charged it with set-based SQL; it wrote every row twice and managed 63,000–83,000
/// records/s against 111,000–153,000 now (docs/performance.md).
/// </remarks>
public sealed partial class UsageIngest(PortalDbContext db, Notifier notifier, TimeProvider clock, ILogger<UsageIngest> log)
{
    // The states are constants of the Allocation type; spelled out here because the statement is plain SQL.
    private static readonly string ChargeableStates = string.Join(", ", Allocation.ChargeableStates.Select(s => $"'{s}'"));

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
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            // One batch per cluster at a time: between the lookup of known jobs and the COPY nobody else may record
            // this cluster's jobs. The primary key still refuses a second copy of a job should that rule be broken.
            await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(hashtextextended('usage-ingest:' || @cluster::text, 0))", clusterId, cancellationToken);
            var matching = await ChargeableAccountsAsync(connection, clusterId, cancellationToken);
            var known = await KnownJobsAsync(connection, clusterId, records, cancellationToken);
            lookupMs = watch.ElapsedMilliseconds;

            batch = Charges.Of(records, known, matching);
            await CopyRecordsAsync(connection, clusterId, batch, now, cancellationToken);
            await ChargeAsync(connection, clusterId, batch, now, cancellationToken);
            await CopyUnmatchedAsync(connection, clusterId, batch.Unmatched, now, cancellationToken);
            if (batch.Unmatched.Count > 0)
            {
                // Admins hear of usage nobody is charged for, in the same transaction as the batch.
                var cluster = await db.Clusters.Where(c => c.Id == clusterId).Select(c => c.Name).SingleAsync(cancellationToken);
                await notifier.NotifyAdminsAsync(NotificationKinds.AdminUnmatchedUsage, cluster, "/Admin/Usage/Unmatched",
                    new Dictionary<string, string> { ["count"] = batch.Unmatched.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) }, cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
            }
            await tx.CommitAsync(cancellationToken);
            writeMs = watch.ElapsedMilliseconds - lookupMs;
        }
        var accepted = batch.New.Count;
        var duplicate = records.Count - accepted + parsed.Duplicates.Count;
        LogIngested(clusterId, accepted, batch.ChargedJobs, duplicate, batch.Unmatched.Count, rejectedCount, lookupMs, writeMs);
        return new UsageIngestResult(accepted, batch.ChargedJobs, batch.ChargedHours, duplicate, parsed.Pending.Count, parsed.SkippedSteps,
            batch.Unmatched.Count, rejectedCount, rejections);
    }

    /// <summary>Slurm accounts with an allocation that may be charged on this cluster now.</summary>
    private static async Task<Dictionary<string, Guid>> ChargeableAccountsAsync(NpgsqlConnection connection, Guid clusterId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            SELECT a.slurm_account, a.id
            FROM allocations a JOIN allocation_quotas q ON q.allocation_id = a.id AND q.cluster_id = @cluster
            WHERE a.state IN ({ChargeableStates})
            """, connection);
        command.Parameters.AddWithValue("cluster", clusterId);
        var accounts = new Dictionary<string, Guid>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            accounts[reader.GetString(0)] = reader.GetGuid(1);
        }
        return accounts;
    }

    /// <summary>The batch's job ids that this cluster has already reported: one index probe each.</summary>
    private static async Task<HashSet<string>> KnownJobsAsync(NpgsqlConnection connection, Guid clusterId, IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        var ids = new string[records.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = records[i].JobId;
        }
        await using var command = new NpgsqlCommand(
            "SELECT u.job_id FROM unnest(@ids) AS s(job_id) JOIN usage_records u ON u.cluster_id = @cluster AND u.job_id = s.job_id", connection)
        { CommandTimeout = 600 };
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = ids });
        var known = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            known.Add(reader.GetString(0));
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
            COPY usage_records (cluster_id, job_id, account, user_name, started_at, ended_at, elapsed_seconds, gpu_count, gpu_hours, state, received_at, allocation_id)
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
            copy.Write(r.Account, NpgsqlDbType.Varchar);
            copy.Write(r.User, NpgsqlDbType.Varchar);
            if (r.Start is { } start)
            {
                copy.Write(start, NpgsqlDbType.TimestampTz);
            }
            else
            {
                copy.WriteNull();
            }
            copy.Write(r.End!.Value, NpgsqlDbType.TimestampTz);
            copy.Write(r.ElapsedSeconds, NpgsqlDbType.Bigint);
            copy.Write(r.GpuCount, NpgsqlDbType.Integer);
            copy.Write(r.GpuHours, NpgsqlDbType.Numeric);
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

    private static async Task CopyUnmatchedAsync(NpgsqlConnection connection, Guid clusterId, IReadOnlyList<UsageRecord> unmatched, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (unmatched.Count == 0)
        {
            return;
        }
        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY unmatched_usage (cluster_id, job_id, account, gpu_hours, received_at, status) FROM STDIN (FORMAT BINARY)", cancellationToken);
        copy.Timeout = TimeSpan.FromMinutes(10);
        var open = nameof(UnmatchedUsageStatus.Open);
        foreach (var r in unmatched)
        {
            copy.StartRow();
            copy.Write(clusterId, NpgsqlDbType.Uuid);
            copy.Write(r.JobId, NpgsqlDbType.Varchar);
            copy.Write(r.Account, NpgsqlDbType.Varchar);
            copy.Write(r.GpuHours, NpgsqlDbType.Numeric);
            copy.Write(now, NpgsqlDbType.TimestampTz);
            copy.Write(open, NpgsqlDbType.Text);
        }
        await copy.CompleteAsync(cancellationToken);
    }

    /// <summary>One ledger entry per allocation and UTC day of job ends, and the cached used hours of each quota.</summary>
    private static async Task ChargeAsync(NpgsqlConnection connection, Guid clusterId, Charges batch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (batch.Days.Count > 0)
        {
            var days = batch.Days.OrderBy(d => d.Key.Allocation).ThenBy(d => d.Key.Day).ToList();
            await using var ledger = new NpgsqlCommand("""
                INSERT INTO ledger_entries (allocation_id, cluster_id, kind, hours, effective_at, recorded_at, cause)
                SELECT e.allocation_id, @cluster, 'Usage', -e.hours, e.effective_at, @now, e.cause
                FROM unnest(@allocation, @hours, @effective, @cause) AS e(allocation_id, hours, effective_at, cause)
                """, connection);
            ledger.Parameters.AddWithValue("cluster", clusterId);
            ledger.Parameters.AddWithValue("now", now);
            ledger.Parameters.AddWithValue("allocation", days.Select(d => d.Key.Allocation).ToArray());
            ledger.Parameters.AddWithValue("hours", days.Select(d => d.Value.Hours).ToArray());
            ledger.Parameters.AddWithValue("effective", days.Select(d => d.Value.LastEnd).ToArray());
            ledger.Parameters.AddWithValue("cause", days.Select(d => d.Value.Cause(d.Key.Day)).ToArray());
            await ledger.ExecuteNonQueryAsync(cancellationToken);
        }
        if (batch.HoursByAllocation.Count > 0)
        {
            var totals = batch.HoursByAllocation.OrderBy(t => t.Key).ToList();
            await using var quotas = new NpgsqlCommand("""
                UPDATE allocation_quotas q SET used_hours = q.used_hours + t.hours
                FROM unnest(@allocation, @hours) AS t(allocation_id, hours)
                WHERE q.allocation_id = t.allocation_id AND q.cluster_id = @cluster
                """, connection);
            quotas.Parameters.AddWithValue("cluster", clusterId);
            quotas.Parameters.AddWithValue("allocation", totals.Select(t => t.Key).ToArray());
            quotas.Parameters.AddWithValue("hours", totals.Select(t => t.Value).ToArray());
            await quotas.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, Guid clusterId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("cluster", clusterId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>What one batch records and charges, worked out before anything is written.</summary>
    private sealed class Charges
    {
        /// <summary>Jobs not recorded before, in body order.</summary>
        public List<UsageRecord> New { get; } = [];

        /// <summary>For each of <see cref="New"/>, the allocation charged, or null when unmatched.</summary>
        public List<Guid?> AllocationOf { get; } = [];

        public List<UsageRecord> Unmatched { get; } = [];

        /// <summary>Jobs with GPU-hours, by allocation and UTC day of their end: one ledger entry each.</summary>
        public Dictionary<(Guid Allocation, DateTime Day), DayCharge> Days { get; } = [];

        public Dictionary<Guid, decimal> HoursByAllocation { get; } = [];

        public int ChargedJobs { get; private set; }

        public decimal ChargedHours { get; private set; }

        public static Charges Of(IReadOnlyList<UsageRecord> records, HashSet<string> known, Dictionary<string, Guid> accounts)
        {
            var charges = new Charges();
            foreach (var r in records)
            {
                if (known.Contains(r.JobId))
                {
                    continue;
                }
                charges.New.Add(r);
                if (!accounts.TryGetValue(r.Account, out var allocationId))
                {
                    charges.AllocationOf.Add(null);
                    charges.Unmatched.Add(r);
                    continue;
                }
                charges.AllocationOf.Add(allocationId);
                charges.ChargedJobs++;
                var hours = r.GpuHours;
                charges.ChargedHours += hours;
                if (hours <= 0)
                {
                    continue;
                }
                var end = r.End!.Value;
                var key = (allocationId, end.UtcDateTime.Date);
                if (!charges.Days.TryGetValue(key, out var day))
                {
                    charges.Days[key] = day = new DayCharge(r.JobId);
                }
                day.Add(hours, end);
                charges.HoursByAllocation[allocationId] = charges.HoursByAllocation.GetValueOrDefault(allocationId) + hours;
            }
            return charges;
        }
    }

    private sealed class DayCharge(string firstJob)
    {
        public decimal Hours { get; private set; }

        public int Jobs { get; private set; }

        public DateTimeOffset LastEnd { get; private set; } = DateTimeOffset.MinValue;

        public void Add(decimal hours, DateTimeOffset end)
        {
            Hours += hours;
            Jobs++;
            if (end > LastEnd)
            {
                LastEnd = end;
            }
        }

        public string Cause(DateTime day) => Jobs == 1
            ? $"Job {firstJob}"
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Jobs} jobs ended {day:yyyy-MM-dd} (UTC)");
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

using Meta.ComputeAccess.Allocation;
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
/// Stores and charges a parsed usage batch in ONE transaction, holding a per-cluster advisory lock: binary COPY
/// into a temporary staging table, then set-based statements that drop jobs already recorded (unique on cluster +
/// job id, so a batch sent twice is charged once), insert the new ones, charge matched ones to the ledger (one entry
/// per allocation and job-end day) and the cached quota, and keep the rest as unmatched usage.
/// A failure anywhere rolls all of it back.
/// </summary>
public sealed partial class UsageIngest(PortalDbContext db, Notifier notifier, TimeProvider clock, ILogger<UsageIngest> log)
{
    // The states are constants of the Allocation type; spelled out here because the statement is plain SQL.
    private static readonly string ChargeableStates = string.Join(", ", Allocation.Allocation.ChargeableStates.Select(s => $"'{s}'"));

    /// <summary>
    /// Run in order after the COPY, in the transaction that holds the cluster's ingest lock. No ON CONFLICT and no
    /// RETURNING of a million rows: jobs already recorded are removed from the staging table first, so every later
    /// statement works on new jobs only (the unique key on cluster + job id still guards against a bug).
    /// </summary>
    private static readonly string[] ChargeSql =
    [
        $"""
        CREATE TEMP TABLE usage_matching ON COMMIT DROP AS
            SELECT a.slurm_account, a.id AS allocation_id
            FROM allocations a
            JOIN allocation_quotas q ON q.allocation_id = a.id AND q.cluster_id = @cluster
            WHERE a.state IN ({ChargeableStates})
        """,
        "DELETE FROM usage_staging s USING usage_records u WHERE u.cluster_id = @cluster AND u.job_id = s.job_id",
        """
        INSERT INTO usage_records (cluster_id, job_id, account, user_name, started_at, ended_at, elapsed_seconds, gpu_count, gpu_hours, state, received_at, allocation_id)
        SELECT @cluster, s.job_id, s.account, s.user_name, s.started_at, s.ended_at, s.elapsed_seconds, s.gpu_count, s.gpu_hours, s.state, @now, m.allocation_id
        FROM usage_staging s LEFT JOIN usage_matching m ON m.slurm_account = s.account
        """,
        """
        INSERT INTO ledger_entries (allocation_id, cluster_id, kind, hours, effective_at, recorded_at, cause)
        SELECT m.allocation_id, @cluster, 'Usage', -sum(s.gpu_hours), max(s.ended_at), @now,
               CASE WHEN count(*) = 1 THEN 'Job ' || min(s.job_id)
                    ELSE count(*) || ' jobs ended ' || to_char(date_trunc('day', s.ended_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') || ' (UTC)' END
        FROM usage_staging s JOIN usage_matching m ON m.slurm_account = s.account
        WHERE s.gpu_hours > 0
        GROUP BY m.allocation_id, date_trunc('day', s.ended_at AT TIME ZONE 'UTC')
        """,
        """
        INSERT INTO unmatched_usage (usage_record_id, cluster_id, account, gpu_hours, received_at, status)
        SELECT u.id, @cluster, s.account, s.gpu_hours, @now, 'Open'
        FROM usage_staging s JOIN usage_records u ON u.cluster_id = @cluster AND u.job_id = s.job_id
        WHERE NOT EXISTS (SELECT 1 FROM usage_matching m WHERE m.slurm_account = s.account)
        """,
        """
        UPDATE allocation_quotas q SET used_hours = q.used_hours + t.hours
        FROM (SELECT m.allocation_id, sum(s.gpu_hours) AS hours
              FROM usage_staging s JOIN usage_matching m ON m.slurm_account = s.account GROUP BY m.allocation_id) t
        WHERE q.allocation_id = t.allocation_id AND q.cluster_id = @cluster
        """,
        """
        SELECT count(*), coalesce(sum(s.gpu_hours), 0)
        FROM usage_staging s JOIN usage_matching m ON m.slurm_account = s.account
        """,
    ];

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
        int accepted = 0, charged = 0, unmatched = 0;
        var chargedHours = 0m;
        long copyMs = 0, chargeMs = 0;
        if (records.Count > 0)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            await using (var create = new NpgsqlCommand("""
                SELECT pg_advisory_xact_lock(hashtextextended('usage-ingest:' || @cluster::text, 0));
                SET LOCAL work_mem = '256MB';
                CREATE TEMP TABLE usage_staging (
                    job_id text NOT NULL, account text NOT NULL, user_name text NOT NULL, started_at timestamptz, ended_at timestamptz NOT NULL,
                    elapsed_seconds bigint NOT NULL, gpu_count integer NOT NULL, gpu_hours numeric(18,6) NOT NULL, state text NOT NULL
                ) ON COMMIT DROP
                """, connection))
            {
                // One batch per cluster at a time: the steps below rely on no one else recording this cluster's jobs meanwhile.
                create.Parameters.AddWithValue("cluster", clusterId);
                await create.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var copy = await connection.BeginBinaryImportAsync(
                "COPY usage_staging (job_id, account, user_name, started_at, ended_at, elapsed_seconds, gpu_count, gpu_hours, state) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                // Synchronous writes: they fill Npgsql's buffer and flush only when it is full; an await per
                // field costs more than the copy itself.
                foreach (var r in records)
                {
                    copy.StartRow();
                    copy.Write(r.JobId, NpgsqlDbType.Text);
                    copy.Write(r.Account, NpgsqlDbType.Text);
                    copy.Write(r.User, NpgsqlDbType.Text);
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
                    copy.Write(r.State, NpgsqlDbType.Text);
                }
                await copy.CompleteAsync(cancellationToken);
            }
            copyMs = watch.ElapsedMilliseconds;
            await using (var analyze = new NpgsqlCommand("ANALYZE usage_staging", connection))
            {
                await analyze.ExecuteNonQueryAsync(cancellationToken);
            }
            var affected = new int[ChargeSql.Length];
            for (var i = 0; i < ChargeSql.Length - 1; i++)
            {
                await using var step = new NpgsqlCommand(ChargeSql[i], connection) { CommandTimeout = 600 };
                step.Parameters.AddWithValue("cluster", clusterId);
                step.Parameters.AddWithValue("now", now);
                affected[i] = await step.ExecuteNonQueryAsync(cancellationToken);
            }
            accepted = affected[2];
            unmatched = affected[4];
            await using (var totals = new NpgsqlCommand(ChargeSql[^1], connection))
            {
                await using var reader = await totals.ExecuteReaderAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                charged = (int)reader.GetInt64(0);
                chargedHours = reader.GetDecimal(1);
            }
            if (unmatched > 0)
            {
                // Admins hear of usage nobody is charged for, in the same transaction as the batch.
                var cluster = await db.Clusters.Where(c => c.Id == clusterId).Select(c => c.Name).SingleAsync(cancellationToken);
                await notifier.NotifyAdminsAsync(NotificationKinds.AdminUnmatchedUsage, cluster, "/Admin/Usage/Unmatched",
                    new Dictionary<string, string> { ["count"] = unmatched.ToString(System.Globalization.CultureInfo.InvariantCulture) }, cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
            }
            await tx.CommitAsync(cancellationToken);
            chargeMs = watch.ElapsedMilliseconds - copyMs;
        }
        var duplicate = records.Count - accepted + parsed.Duplicates.Count;
        LogIngested(clusterId, accepted, charged, duplicate, unmatched, rejectedCount, copyMs, chargeMs);
        return new UsageIngestResult(accepted, charged, chargedHours, duplicate, parsed.Pending.Count, parsed.SkippedSteps, unmatched, rejectedCount, rejections);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Usage batch for cluster {ClusterId}: {Accepted} new jobs, {Charged} charged, {Duplicate} duplicates, {Unmatched} unmatched, {Rejected} rejected lines; copy {CopyMs} ms, charge and commit {ChargeMs} ms")]
    private partial void LogIngested(Guid clusterId, int accepted, int charged, int duplicate, int unmatched, int rejected, long copyMs, long chargeMs);
}

using Meta.ComputeAccess.Allocation;
using Meta.ComputeAccess.Data;
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
/// Stores and charges a parsed usage batch in ONE transaction: binary COPY into a temporary staging table, then a
/// single set-based statement that inserts new jobs (unique on cluster + job id, so a batch sent twice is charged
/// once), charges matched ones to the ledger and the cached quota, and keeps the rest as unmatched usage.
/// A failure anywhere rolls all of it back.
/// </summary>
public sealed partial class UsageIngest(PortalDbContext db, TimeProvider clock, ILogger<UsageIngest> log)
{
    // The states are constants of the Allocation type; spelled out here because the statement is plain SQL.
    private static readonly string ChargeableStates = string.Join(", ", Allocation.Allocation.ChargeableStates.Select(s => $"'{s}'"));

    private static readonly string ChargeSql = $"""
        WITH matching AS (
            SELECT a.slurm_account, a.id AS allocation_id
            FROM allocations a
            JOIN allocation_quotas q ON q.allocation_id = a.id AND q.cluster_id = @cluster
            WHERE a.state IN ({ChargeableStates})
        ), inserted AS (
            INSERT INTO usage_records (cluster_id, job_id, account, user_name, started_at, ended_at, elapsed_seconds, gpu_count, gpu_hours, state, received_at, allocation_id)
            SELECT @cluster, s.job_id, s.account, s.user_name, s.started_at, s.ended_at, s.elapsed_seconds, s.gpu_count, s.gpu_hours, s.state, @now, m.allocation_id
            FROM usage_staging s
            LEFT JOIN matching m ON m.slurm_account = s.account
            ON CONFLICT (cluster_id, job_id) DO NOTHING
            RETURNING id, allocation_id, job_id, account, gpu_hours, ended_at
        ), charged AS (
            INSERT INTO ledger_entries (allocation_id, cluster_id, kind, hours, effective_at, recorded_at, cause)
            SELECT allocation_id, @cluster, 'Usage', -sum(gpu_hours), max(ended_at), @now,
                   CASE WHEN count(*) = 1 THEN 'Job ' || min(job_id)
                        ELSE count(*) || ' jobs ended ' || to_char(date_trunc('day', ended_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') || ' (UTC)' END
            FROM inserted WHERE allocation_id IS NOT NULL AND gpu_hours > 0
            GROUP BY allocation_id, date_trunc('day', ended_at AT TIME ZONE 'UTC')
            RETURNING 1
        ), unmatched AS (
            INSERT INTO unmatched_usage (usage_record_id, cluster_id, account, gpu_hours, received_at, status)
            SELECT id, @cluster, account, gpu_hours, @now, 'Open' FROM inserted WHERE allocation_id IS NULL
            RETURNING 1
        ), cached AS (
            UPDATE allocation_quotas q SET used_hours = q.used_hours + t.hours
            FROM (SELECT allocation_id, sum(gpu_hours) AS hours FROM inserted WHERE allocation_id IS NOT NULL GROUP BY allocation_id) t
            WHERE q.allocation_id = t.allocation_id AND q.cluster_id = @cluster
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM inserted),
               (SELECT count(*) FROM inserted WHERE allocation_id IS NOT NULL),
               (SELECT coalesce(sum(gpu_hours), 0) FROM inserted WHERE allocation_id IS NOT NULL),
               (SELECT count(*) FROM unmatched),
               (SELECT count(*) FROM charged),
               (SELECT count(*) FROM cached)
        """;

    public async Task<UsageIngestResult> IngestAsync(Guid clusterId, UsageParseResult parsed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        var now = clock.GetUtcNow();
        int accepted = 0, charged = 0, unmatched = 0;
        var chargedHours = 0m;
        long copyMs = 0, chargeMs = 0;
        if (parsed.Chargeable.Count > 0)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            await using (var create = new NpgsqlCommand("""
                SET LOCAL work_mem = '256MB';
                CREATE TEMP TABLE usage_staging (
                    job_id text NOT NULL, account text NOT NULL, user_name text NOT NULL, started_at timestamptz, ended_at timestamptz NOT NULL,
                    elapsed_seconds bigint NOT NULL, gpu_count integer NOT NULL, gpu_hours numeric(18,6) NOT NULL, state text NOT NULL
                ) ON COMMIT DROP
                """, connection))
            {
                await create.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var copy = await connection.BeginBinaryImportAsync(
                "COPY usage_staging (job_id, account, user_name, started_at, ended_at, elapsed_seconds, gpu_count, gpu_hours, state) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                // Synchronous writes: they fill Npgsql's buffer and flush only when it is full; an await per
                // field costs more than the copy itself.
                foreach (var r in parsed.Chargeable)
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
            await using (var charge = new NpgsqlCommand(ChargeSql, connection))
            {
                charge.CommandTimeout = 600;
                charge.Parameters.AddWithValue("cluster", clusterId);
                charge.Parameters.AddWithValue("now", now);
                await using var reader = await charge.ExecuteReaderAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                accepted = (int)reader.GetInt64(0);
                charged = (int)reader.GetInt64(1);
                chargedHours = reader.GetDecimal(2);
                unmatched = (int)reader.GetInt64(3);
            }
            await tx.CommitAsync(cancellationToken);
            chargeMs = watch.ElapsedMilliseconds - copyMs;
        }
        var duplicate = parsed.Chargeable.Count - accepted + parsed.Duplicates.Count;
        LogIngested(clusterId, accepted, charged, duplicate, unmatched, parsed.RejectedCount, copyMs, chargeMs);
        return new UsageIngestResult(accepted, charged, chargedHours, duplicate, parsed.Pending.Count, parsed.SkippedSteps, unmatched, parsed.RejectedCount, parsed.Rejected);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Usage batch for cluster {ClusterId}: {Accepted} new jobs, {Charged} charged, {Duplicate} duplicates, {Unmatched} unmatched, {Rejected} rejected lines; copy {CopyMs} ms, charge and commit {ChargeMs} ms")]
    private partial void LogIngested(Guid clusterId, int accepted, int charged, int duplicate, int unmatched, int rejected, long copyMs, long chargeMs);
}

using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace Meta.ComputeAccess.Web.Tests.Platform;

/// <summary>Migrations that reshape tables holding data keep every row and every link between rows.</summary>
public sealed class MigrationTests
{
    private const string BeforeUsageKey = "20261125231247_PageIndexes";

    private const string BeforeSubmitTimes = "20261126010810_UserNameIndex";

    private const string BeforeReviewIntegrity = "20261128083203_UsageKeyedBySubmitTime";

    private const string BeforeRates = "20261128114214_ComplianceScreening";

    private const string BeforeUnmatchedPartitions = "20261128191824_AllocationUserUsage";

    [Fact]
    public async Task Rekeying_usage_records_by_job_keeps_unmatched_usage_and_assigned_charges_linked_and_the_ledger_append_only()
    {
        // Rows as the old schema held them: usage keyed by a surrogate id that unmatched usage and ledger rows point at.
        await WithRowsMigratedFromAsync("migration", BeforeUsageKey, """
                INSERT INTO usage_records (cluster_id, job_id, account, user_name, ended_at, elapsed_seconds, gpu_count, gpu_hours, state, received_at, allocation_id) VALUES
                    ('00000000-0000-0000-0000-0000000000c1', '100', 'acct', 'u', now(), 3600, 1, 1, 'COMPLETED', now(), '00000000-0000-0000-0000-0000000000a1'),
                    ('00000000-0000-0000-0000-0000000000c1', '101_3', 'typo', 'u', now(), 7200, 1, 2, 'COMPLETED', now(), '00000000-0000-0000-0000-0000000000a1'),
                    ('00000000-0000-0000-0000-0000000000c1', '102', 'typo', 'u', now(), 3600, 4, 4, 'FAILED', now(), NULL);
                INSERT INTO unmatched_usage (usage_record_id, cluster_id, account, gpu_hours, received_at, status, allocation_id)
                SELECT id, cluster_id, account, gpu_hours, received_at, CASE WHEN job_id = '102' THEN 'Open' ELSE 'Assigned' END,
                       CASE WHEN job_id = '102' THEN NULL ELSE allocation_id END
                FROM usage_records WHERE account = 'typo';
                INSERT INTO ledger_entries (allocation_id, cluster_id, kind, hours, effective_at, recorded_at, cause, usage_record_id)
                SELECT allocation_id, cluster_id, 'Usage', -gpu_hours, now(), now(), 'Job 101_3 (assigned)', id FROM usage_records WHERE job_id = '101_3';
                """, async after =>
        {
            Assert.Equal(["100", "101_3", "102"], await after.UsageRecords.OrderBy(u => u.JobId).Select(u => u.JobId).ToListAsync());
            var unmatched = await after.UnmatchedUsage.OrderBy(u => u.JobId).ToListAsync();
            Assert.Equal(["101_3", "102"], unmatched.Select(u => u.JobId));
            Assert.Equal([UnmatchedUsageStatus.Assigned, UnmatchedUsageStatus.Open], unmatched.Select(u => u.Status));
            var charge = await after.LedgerEntries.SingleAsync();
            Assert.Equal("101_3", charge.UsageJobId);
            Assert.Equal(-2m, charge.Hours);

            // The rewrite of the ledger was the migration's alone: the append-only trigger is back on.
            var ex = await Assert.ThrowsAsync<PostgresException>(() => after.Database.ExecuteSqlRawAsync("UPDATE ledger_entries SET cause = 'rewritten'"));
            Assert.Contains("append-only", ex.MessageText, StringComparison.Ordinal);
            // And the new key refuses a second copy of a job.
            var duplicate = await Assert.ThrowsAsync<PostgresException>(() => after.Database.ExecuteSqlRawAsync(
                "INSERT INTO usage_records (cluster_id, job_id, account, user_name, ended_at, elapsed_seconds, gpu_count, gpu_hours, state, received_at) SELECT cluster_id, job_id, account, user_name, ended_at, 0, 0, 0, state, now() FROM usage_records WHERE job_id = '100'"));
            Assert.Equal(PostgresErrorCodes.UniqueViolation, duplicate.SqlState);
        });
    }

    [Fact]
    public async Task Keying_usage_by_submit_time_keeps_every_row_and_the_ledgers_link_to_its_job_without_rewriting_the_ledger()
    {
        // Jobs keyed by (cluster, job id): one charged with a ledger entry naming it, one unmatched.
        await WithRowsMigratedFromAsync("migration-submit", BeforeSubmitTimes, """
                INSERT INTO usage_records (cluster_id, job_id, account, user_name, ended_at, elapsed_seconds, gpu_count, gpu_hours, state, received_at, allocation_id) VALUES
                    ('00000000-0000-0000-0000-0000000000c1', '100', 'acct', 'u', '2026-03-01T10:00:00Z', 3600, 1, 1, 'COMPLETED', now(), '00000000-0000-0000-0000-0000000000a1'),
                    ('00000000-0000-0000-0000-0000000000c1', '102', 'typo', 'u', '2026-03-01T10:00:00Z', 3600, 4, 4, 'FAILED', now(), NULL);
                INSERT INTO unmatched_usage (cluster_id, job_id, account, gpu_hours, received_at, status)
                VALUES ('00000000-0000-0000-0000-0000000000c1', '102', 'typo', 4, now(), 'Open');
                INSERT INTO ledger_entries (allocation_id, cluster_id, kind, hours, effective_at, recorded_at, cause, usage_job_id)
                VALUES ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000c1', 'Usage', -1, now(), now(), 'Job 100', '100');
                """, async after =>
        {
            Assert.Equal([("100", (DateTimeOffset?)null), ("102", null)],
                (await after.UsageRecords.OrderBy(u => u.JobId).Select(u => new { u.JobId, u.SubmittedAt }).ToListAsync()).Select(u => (u.JobId, u.SubmittedAt)));
            var unmatched = await after.UnmatchedUsage.SingleAsync();
            Assert.Equal(("102", null, null), (unmatched.JobId, unmatched.SubmittedAt, unmatched.Reason));
            // The ledger entry still names its job: the same cluster, id and (null) submit time.
            var charged = await (from e in after.LedgerEntries
                                 from u in after.UsageRecords.Where(u => u.ClusterId == e.ClusterId && u.JobId == e.UsageJobId && u.SubmittedAt == e.UsageJobSubmittedAt)
                                 select u.GpuHours).SingleAsync();
            Assert.Equal(1m, charged);

            var ex = await Assert.ThrowsAsync<PostgresException>(() => after.Database.ExecuteSqlRawAsync("UPDATE ledger_entries SET cause = 'rewritten'"));
            Assert.Contains("append-only", ex.MessageText, StringComparison.Ordinal);
            // A job without a submit time is still one per id (nulls count as equal) ...
            const string copyOf100 = "INSERT INTO usage_records (cluster_id, job_id, submitted_at, account, user_name, ended_at, elapsed_seconds, gpu_count, gpu_hours, state, received_at) " +
                "SELECT cluster_id, job_id, {0}, account, user_name, ended_at, 0, 0, 0, state, now() FROM usage_records WHERE job_id = '100' AND submitted_at IS NULL";
            var duplicate = await Assert.ThrowsAsync<PostgresException>(() => after.Database.ExecuteSqlRawAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, copyOf100, "NULL")));
            Assert.Equal(PostgresErrorCodes.UniqueViolation, duplicate.SqlState);
            // ... while the same id with a submit time is another job, once.
            var reused = string.Format(System.Globalization.CultureInfo.InvariantCulture, copyOf100, "'2026-04-01T09:00:00Z'");
            Assert.Equal(1, await after.Database.ExecuteSqlRawAsync(reused));
            Assert.Equal(PostgresErrorCodes.UniqueViolation, (await Assert.ThrowsAsync<PostgresException>(() => after.Database.ExecuteSqlRawAsync(reused))).SqlState);
        });
    }

    [Fact]
    public async Task Charge_rates_give_existing_clusters_rate_one_and_leave_recorded_usage_and_the_ledger_as_they_were()
    {
        await WithRowsMigratedFromAsync("migration-rates", BeforeRates, """
                INSERT INTO allocation_quotas (allocation_id, cluster_id, granted_hours, used_hours, expired_hours)
                VALUES ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000c1', 100, 2, 0);
                INSERT INTO usage_records (cluster_id, job_id, account, user_name, ended_at, elapsed_seconds, gpu_count, gpu_hours, state, received_at, allocation_id) VALUES
                    ('00000000-0000-0000-0000-0000000000c1', '100', 'acct', 'u', '2026-03-01T10:00:00Z', 3600, 2, 2, 'COMPLETED', now(), '00000000-0000-0000-0000-0000000000a1');
                INSERT INTO ledger_entries (allocation_id, cluster_id, kind, hours, effective_at, recorded_at, cause) VALUES
                    ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000c1', 'Grant', 100, now(), now(), 'Grant'),
                    ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000c1', 'Usage', -2, now(), now(), 'Job 100');
                """, async after =>
        {
            var version = await after.ChargePolicies.SingleAsync();
            Assert.Equal((1, "gres/gpu=1", ""), (version.Version, version.RatesText, version.MultipliersText));
            Assert.True(version.EffectiveFrom <= new DateTimeOffset(1970, 1, 2, 0, 0, 0, TimeSpan.Zero));
            // Nothing recorded before is rewritten: its price is its GPU-hours, its version none.
            var job = await after.UsageRecords.SingleAsync();
            Assert.Equal((null, (Guid?)null, 2m), (job.ChargedHours, job.ChargePolicyId, job.GpuHours));
            Assert.All(await after.LedgerEntries.ToListAsync(), e => Assert.Null(e.ChargePolicyId));
            var quota = await after.AllocationQuotas.SingleAsync();
            Assert.Equal((100m, 2m, 0m), (quota.GrantedHours, quota.UsedHours, quota.HeldHours));
            var ex = await Assert.ThrowsAsync<PostgresException>(() => after.Database.ExecuteSqlRawAsync("UPDATE charge_policies SET rates_text = 'gres/gpu=2'"));
            Assert.Contains("append-only", ex.MessageText, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Partitioning_unmatched_usage_gives_each_row_its_jobs_end_keeps_its_id_and_status_and_down_restores_the_table()
    {
        // Queued jobs as the unpartitioned table held them: one without a submit time (a record with a submit time and another
        // end is another job), one with two records (an End edited by hand: the earliest counts) and one without a record.
        await WithRowsMigratedFromAsync("migration-unmatched", BeforeUnmatchedPartitions, """
                INSERT INTO usage_records (cluster_id, job_id, submitted_at, account, user_name, ended_at, elapsed_seconds, gpu_count, gpu_hours, state, received_at) VALUES
                    ('00000000-0000-0000-0000-0000000000c1', '200', NULL, 'typo', 'u', '2026-03-01T10:00:00Z', 3600, 1, 1, 'COMPLETED', now()),
                    ('00000000-0000-0000-0000-0000000000c1', '200', '2026-01-20T08:00:00Z', 'typo', 'u', '2026-01-21T10:00:00Z', 3600, 1, 1, 'COMPLETED', now()),
                    ('00000000-0000-0000-0000-0000000000c1', '201', '2026-03-30T08:00:00Z', 'typo', 'u', '2026-04-05T10:00:00Z', 3600, 1, 1, 'COMPLETED', now()),
                    ('00000000-0000-0000-0000-0000000000c1', '201', '2026-03-30T08:00:00Z', 'typo', 'u', '2026-04-02T10:00:00Z', 3600, 1, 1, 'COMPLETED', now());
                INSERT INTO unmatched_usage (cluster_id, job_id, submitted_at, account, gpu_hours, received_at, status, reason) VALUES
                    ('00000000-0000-0000-0000-0000000000c1', '200', NULL, 'typo', 1, '2026-03-02T00:00:00Z', 'Open', 'UnknownAccount'),
                    ('00000000-0000-0000-0000-0000000000c1', '201', '2026-03-30T08:00:00Z', 'typo', 1, '2026-04-06T00:00:00Z', 'Dismissed', 'UnknownAccount'),
                    ('00000000-0000-0000-0000-0000000000c1', '202', NULL, 'typo', 2, '2026-05-07T00:00:00Z', 'Open', NULL);
                """, async after =>
        {
            var rows = await after.Database.SqlQuery<QueuedRow>($"""
                SELECT id, job_id, ended_at, status, tableoid::regclass::text AS partition FROM unmatched_usage ORDER BY job_id
                """).ToListAsync();
            Assert.Equal([
                new QueuedRow(1, "200", DateTimeOffset.Parse("2026-03-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture), "Open", "unmatched_usage_y2026m03"),
                new QueuedRow(2, "201", DateTimeOffset.Parse("2026-04-02T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture), "Dismissed", "unmatched_usage_y2026m04"),
                new QueuedRow(3, "202", DateTimeOffset.Parse("2026-05-07T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), "Open", "unmatched_usage_y2026m05"),
            ], rows);
            // The key is the job's with its end, as usage_records has it; new rows take ids after every one handed out before
            // (the refused insert took 4).
            const string copyOf200 = "INSERT INTO unmatched_usage (cluster_id, job_id, submitted_at, ended_at, account, gpu_hours, received_at, status) " +
                "SELECT cluster_id, job_id, submitted_at, {0}, account, gpu_hours, now(), 'Open' FROM unmatched_usage WHERE job_id = '200' RETURNING id AS \"Value\"";
            var duplicate = await Assert.ThrowsAsync<PostgresException>(() => after.Database.SqlQueryRaw<long>(string.Format(System.Globalization.CultureInfo.InvariantCulture, copyOf200, "ended_at")).ToListAsync());
            Assert.Equal(PostgresErrorCodes.UniqueViolation, duplicate.SqlState);
            Assert.Equal([5L], await after.Database.SqlQueryRaw<long>(string.Format(System.Globalization.CultureInfo.InvariantCulture, copyOf200, "ended_at + interval '1 hour'")).ToListAsync());
            Assert.Equal("unmatched_usage_y2026m03", await after.Database.SqlQuery<string>($"SELECT tableoid::regclass::text AS \"Value\" FROM unmatched_usage WHERE id = 5").SingleAsync());

            // Down: one table with an identity id again; of the job's two reports the first stays, and usage_records_partition is back.
            await after.GetService<IMigrator>().MigrateAsync(BeforeUnmatchedPartitions);
            Assert.Equal("r", await after.Database.SqlQuery<string>($"SELECT relkind::text AS \"Value\" FROM pg_class WHERE oid = 'unmatched_usage'::regclass").SingleAsync());
            Assert.Equal([(1L, "200"), (2L, "201"), (3L, "202")],
                (await after.Database.SqlQuery<QueuedId>($"SELECT id, job_id FROM unmatched_usage ORDER BY id").ToListAsync()).Select(r => (r.Id, r.JobId)));
            Assert.Equal([6L], await after.Database.SqlQuery<long>($"""
                INSERT INTO unmatched_usage (cluster_id, job_id, account, gpu_hours, received_at, status) VALUES ('00000000-0000-0000-0000-0000000000c1', '203', 'typo', 1, now(), 'Open') RETURNING id AS "Value"
                """).ToListAsync());
            Assert.True(await after.Database.SqlQuery<bool>($"SELECT usage_records_partition('2031-01-01') AS \"Value\"").SingleAsync());

            // And up again.
            await after.Database.MigrateAsync();
            Assert.Equal(4, await after.UnmatchedUsage.CountAsync());
            Assert.Equal(0, await after.Database.SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM unmatched_usage_default").SingleAsync());
        });
    }

    private sealed record QueuedRow(long Id, string JobId, DateTimeOffset EndedAt, string Status, string Partition);

    private sealed record QueuedId(long Id, string JobId);

    [Fact]
    public async Task Keying_declared_collaborators_by_email_keeps_each_declaration_with_its_accounts_address()
    {
        await WithRowsMigratedFromAsync("migration-collaborators", BeforeReviewIntegrity, """
                INSERT INTO users (id, full_name, institution, country, created_at, email_confirmed, phone_number_confirmed, two_factor_enabled, lockout_enabled, access_failed_count, research_fields, email, normalized_email)
                VALUES ('00000000-0000-0000-0000-000000000002', 'Cora Collaborator', 'Uni', 'FR', now(), true, false, false, true, 0, '{}', 'Cora@Example.org', 'CORA@EXAMPLE.ORG');
                INSERT INTO reviewer_collaborators (reviewer_user_id, collaborator_user_id, declared_at)
                VALUES ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002', '2026-03-01T10:00:00Z');
                """, async after =>
        {
            var kept = await after.ReviewerCollaborators.AsNoTracking().SingleAsync();
            Assert.Equal((Guid.Parse("00000000-0000-0000-0000-000000000001"), "Cora@Example.org", "CORA@EXAMPLE.ORG", DateTimeOffset.Parse("2026-03-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture)),
                (kept.ReviewerUserId, kept.Email, kept.NormalizedEmail, kept.DeclaredAt));
            // The new history tables refuse changes like the others.
            var ex = await Assert.ThrowsAsync<PostgresException>(() => after.Database.ExecuteSqlRawAsync("TRUNCATE review_responses"));
            Assert.Contains("append-only", ex.MessageText, StringComparison.Ordinal);
        });
    }

    /// <summary>A PI, a cluster, a period and an allocation (account <c>acct</c>), as every schema since the allocation module holds them.</summary>
    private const string Owners = """
                INSERT INTO users (id, full_name, institution, country, created_at, email_confirmed, phone_number_confirmed, two_factor_enabled, lockout_enabled, access_failed_count, research_fields)
                VALUES ('00000000-0000-0000-0000-000000000001', 'Pat PI', 'Uni', 'FR', now(), true, false, false, true, 0, '{}');
                INSERT INTO clusters (id, name, slug, accelerator_model, nodes, accelerators_per_node, slurm_cluster_name, status, created_at)
                VALUES ('00000000-0000-0000-0000-0000000000c1', 'Old', 'old', 'H100', 1, 8, 'old', 'Available', now());
                INSERT INTO allocation_periods (id, name, start_date, end_date) VALUES ('00000000-0000-0000-0000-0000000000d1', 'P', '2026-01-01', '2026-12-31');
                INSERT INTO allocations (id, period_id, pi_user_id, project_title, slurm_account, start_date, end_date, state, created_at)
                VALUES ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000d1', '00000000-0000-0000-0000-000000000001', 'T', 'acct', '2026-01-01', '2026-12-31', 'Active', now());
                """;

    /// <summary>
    /// Migrates a new database up to <paramref name="migration"/>, inserts <see cref="Owners"/> and <paramref name="rows"/>
    /// as that schema holds them, migrates to the latest and hands the result to <paramref name="check"/>; drops it after.
    /// </summary>
    private static async Task WithRowsMigratedFromAsync(string name, string migration, string rows, Func<PortalDbContext, Task> check)
    {
        var cs = await TestDatabases.CreateEmptyAsync(name);
        try
        {
            await using (var db = new PortalDbContext(PortalDatabase.Options(cs)))
            {
                await db.GetService<IMigrator>().MigrateAsync(migration);
            }
            await ExecuteAsync(cs, Owners + "\n" + rows);
            await using (var db = new PortalDbContext(PortalDatabase.Options(cs)))
            {
                await db.Database.MigrateAsync();
            }
            await using var after = new PortalDbContext(PortalDatabase.Options(cs));
            await check(after);
        }
        finally
        {
            await TestDatabases.DropAsync(cs);
        }
    }

    private static async Task ExecuteAsync(string cs, string sql)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

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

    [Fact]
    public async Task Rekeying_usage_records_by_job_keeps_unmatched_usage_and_assigned_charges_linked_and_the_ledger_append_only()
    {
        var cs = await TestDatabases.CreateEmptyAsync("migration");
        try
        {
            await using (var db = new PortalDbContext(PortalDatabase.Options(cs)))
            {
                await db.GetService<IMigrator>().MigrateAsync(BeforeUsageKey);
            }
            // Rows as the old schema held them: usage keyed by a surrogate id that unmatched usage and ledger rows point at.
            await ExecuteAsync(cs, """
                INSERT INTO users (id, full_name, institution, country, created_at, email_confirmed, phone_number_confirmed, two_factor_enabled, lockout_enabled, access_failed_count, research_fields)
                VALUES ('00000000-0000-0000-0000-000000000001', 'Pat PI', 'Uni', 'FR', now(), true, false, false, true, 0, '{}');
                INSERT INTO clusters (id, name, slug, accelerator_model, nodes, accelerators_per_node, slurm_cluster_name, status, created_at)
                VALUES ('00000000-0000-0000-0000-0000000000c1', 'Old', 'old', 'H100', 1, 8, 'old', 'Available', now());
                INSERT INTO allocation_periods (id, name, start_date, end_date) VALUES ('00000000-0000-0000-0000-0000000000d1', 'P', '2026-01-01', '2026-12-31');
                INSERT INTO allocations (id, period_id, pi_user_id, project_title, slurm_account, start_date, end_date, state, created_at)
                VALUES ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000d1', '00000000-0000-0000-0000-000000000001', 'T', 'acct', '2026-01-01', '2026-12-31', 'Active', now());
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
                """);

            await using (var db = new PortalDbContext(PortalDatabase.Options(cs)))
            {
                await db.Database.MigrateAsync();
            }

            await using var after = new PortalDbContext(PortalDatabase.Options(cs));
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

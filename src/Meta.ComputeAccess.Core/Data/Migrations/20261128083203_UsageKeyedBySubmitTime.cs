using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class UsageKeyedBySubmitTime : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Jobs are keyed by cluster, job id AND submit time, because Slurm's ids come back. Rows recorded before have
            // no submit time: they keep NULL, and the new unique indexes count NULLs as equal (NULLS NOT DISTINCT), so
            // each (cluster, job id) of those stays unique and clients that send no Submit keep the old rule. No row is
            // rewritten: a ledger entry's link to its job (cluster_id, usage_job_id, usage_job_submitted_at NULL) names
            // the same usage record as before, so the append-only ledger is left as it is.
            migrationBuilder.DropPrimaryKey(
                name: "pk_usage_records",
                table: "usage_records");

            migrationBuilder.DropIndex(
                name: "ix_unmatched_usage_cluster_id_job_id",
                table: "unmatched_usage");

            migrationBuilder.DropIndex(
                name: "ix_ledger_entries_cluster_id_usage_job_id",
                table: "ledger_entries");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "submitted_at",
                table: "usage_records",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "reason",
                table: "unmatched_usage",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "submitted_at",
                table: "unmatched_usage",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "usage_job_submitted_at",
                table: "ledger_entries",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_usage_records_cluster_id_job_id_submitted_at",
                table: "usage_records",
                columns: new[] { "cluster_id", "job_id", "submitted_at" },
                unique: true)
                .Annotation("Npgsql:NullsDistinct", false);

            migrationBuilder.CreateIndex(
                name: "ix_unmatched_usage_cluster_id_job_id_submitted_at",
                table: "unmatched_usage",
                columns: new[] { "cluster_id", "job_id", "submitted_at" },
                unique: true)
                .Annotation("Npgsql:NullsDistinct", false);

            migrationBuilder.CreateIndex(
                name: "ix_ledger_entries_usage_job",
                table: "ledger_entries",
                columns: new[] { "cluster_id", "usage_job_id", "usage_job_submitted_at" },
                unique: true,
                filter: "usage_job_id IS NOT NULL")
                .Annotation("Npgsql:NullsDistinct", false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Refused by the old unique keys once two jobs of a cluster share an id (a reused id with a new submit time).
            migrationBuilder.DropIndex(
                name: "ix_usage_records_cluster_id_job_id_submitted_at",
                table: "usage_records");

            migrationBuilder.DropIndex(
                name: "ix_unmatched_usage_cluster_id_job_id_submitted_at",
                table: "unmatched_usage");

            migrationBuilder.DropIndex(
                name: "ix_ledger_entries_usage_job",
                table: "ledger_entries");

            migrationBuilder.DropColumn(
                name: "submitted_at",
                table: "usage_records");

            migrationBuilder.DropColumn(
                name: "reason",
                table: "unmatched_usage");

            migrationBuilder.DropColumn(
                name: "submitted_at",
                table: "unmatched_usage");

            migrationBuilder.DropColumn(
                name: "usage_job_submitted_at",
                table: "ledger_entries");

            migrationBuilder.AddPrimaryKey(
                name: "pk_usage_records",
                table: "usage_records",
                columns: new[] { "cluster_id", "job_id" });

            migrationBuilder.CreateIndex(
                name: "ix_unmatched_usage_cluster_id_job_id",
                table: "unmatched_usage",
                columns: new[] { "cluster_id", "job_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_ledger_entries_cluster_id_usage_job_id",
                table: "ledger_entries",
                columns: new[] { "cluster_id", "usage_job_id" },
                unique: true,
                filter: "usage_job_id IS NOT NULL");
        }
    }
}

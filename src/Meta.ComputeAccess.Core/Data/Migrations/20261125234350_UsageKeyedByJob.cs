using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class UsageKeyedByJob : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // usage_records is keyed by (cluster_id, job_id) instead of a surrogate id: one index less on the table the
            // ingest writes a million rows at a time into. Rows that pointed at a record by id now name its job.
            migrationBuilder.AddColumn<string>(
                name: "job_id",
                table: "unmatched_usage",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true,
                collation: "C");

            migrationBuilder.AddColumn<string>(
                name: "usage_job_id",
                table: "ledger_entries",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true,
                collation: "C");

            migrationBuilder.Sql("""
                UPDATE unmatched_usage m SET job_id = r.job_id FROM usage_records r WHERE r.id = m.usage_record_id;
                -- The ledger is append-only; this schema change is the one sanctioned rewrite of existing rows, and it
                -- only copies which job an entry names. The trigger is back on before the transaction ends.
                ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only;
                UPDATE ledger_entries e SET usage_job_id = r.job_id FROM usage_records r WHERE r.id = e.usage_record_id;
                ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only;
                """);

            migrationBuilder.AlterColumn<string>(
                name: "job_id",
                table: "unmatched_usage",
                type: "character varying(64)",
                maxLength: 64,
                nullable: false,
                collation: "C",
                oldClrType: typeof(string),
                oldType: "character varying(64)",
                oldMaxLength: 64,
                oldNullable: true,
                oldCollation: "C");

            migrationBuilder.DropPrimaryKey(
                name: "pk_usage_records",
                table: "usage_records");

            migrationBuilder.DropIndex(
                name: "ix_usage_records_cluster_id_job_id",
                table: "usage_records");

            migrationBuilder.DropIndex(
                name: "ix_unmatched_usage_usage_record_id",
                table: "unmatched_usage");

            migrationBuilder.DropIndex(
                name: "ix_ledger_entries_cluster_id",
                table: "ledger_entries");

            migrationBuilder.DropIndex(
                name: "ix_ledger_entries_usage_record_id",
                table: "ledger_entries");

            migrationBuilder.DropColumn(
                name: "id",
                table: "usage_records");

            migrationBuilder.DropColumn(
                name: "usage_record_id",
                table: "unmatched_usage");

            migrationBuilder.DropColumn(
                name: "usage_record_id",
                table: "ledger_entries");

            migrationBuilder.AlterColumn<string>(
                name: "job_id",
                table: "usage_records",
                type: "character varying(64)",
                maxLength: 64,
                nullable: false,
                collation: "C",
                oldClrType: typeof(string),
                oldType: "character varying(64)",
                oldMaxLength: 64);

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

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "pk_usage_records",
                table: "usage_records");

            migrationBuilder.DropIndex(
                name: "ix_unmatched_usage_cluster_id_job_id",
                table: "unmatched_usage");

            migrationBuilder.DropIndex(
                name: "ix_ledger_entries_cluster_id_usage_job_id",
                table: "ledger_entries");

            migrationBuilder.AlterColumn<string>(
                name: "job_id",
                table: "usage_records",
                type: "character varying(64)",
                maxLength: 64,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(64)",
                oldMaxLength: 64,
                oldCollation: "C");

            migrationBuilder.AddColumn<long>(
                name: "id",
                table: "usage_records",
                type: "bigint",
                nullable: false,
                defaultValue: 0L)
                .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn);

            migrationBuilder.AddColumn<long>(
                name: "usage_record_id",
                table: "unmatched_usage",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "usage_record_id",
                table: "ledger_entries",
                type: "bigint",
                nullable: true);

            migrationBuilder.Sql("""
                UPDATE unmatched_usage m SET usage_record_id = r.id FROM usage_records r WHERE r.cluster_id = m.cluster_id AND r.job_id = m.job_id;
                ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only;
                UPDATE ledger_entries e SET usage_record_id = r.id FROM usage_records r WHERE r.cluster_id = e.cluster_id AND r.job_id = e.usage_job_id;
                ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only;
                """);

            migrationBuilder.DropColumn(
                name: "job_id",
                table: "unmatched_usage");

            migrationBuilder.DropColumn(
                name: "usage_job_id",
                table: "ledger_entries");

            migrationBuilder.AddPrimaryKey(
                name: "pk_usage_records",
                table: "usage_records",
                column: "id");

            migrationBuilder.CreateIndex(
                name: "ix_usage_records_cluster_id_job_id",
                table: "usage_records",
                columns: new[] { "cluster_id", "job_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_unmatched_usage_usage_record_id",
                table: "unmatched_usage",
                column: "usage_record_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_ledger_entries_cluster_id",
                table: "ledger_entries",
                column: "cluster_id");

            migrationBuilder.CreateIndex(
                name: "ix_ledger_entries_usage_record_id",
                table: "ledger_entries",
                column: "usage_record_id",
                unique: true,
                filter: "usage_record_id IS NOT NULL");
        }
    }
}

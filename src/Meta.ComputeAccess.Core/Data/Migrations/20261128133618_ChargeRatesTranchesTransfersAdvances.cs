using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class ChargeRatesTranchesTransfersAdvances : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(
                name: "ck_ledger_entries_sign_follows_kind",
                table: "ledger_entries");

            migrationBuilder.AddColumn<Guid>(
                name: "charge_policy_id",
                table: "usage_records",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<decimal>(
                name: "charged_hours",
                table: "usage_records",
                type: "numeric(18,6)",
                precision: 18,
                scale: 6,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "advance_id",
                table: "ledger_entries",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "charge_policy_id",
                table: "ledger_entries",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<decimal>(
                name: "held_hours",
                table: "allocation_quotas",
                type: "numeric(18,6)",
                precision: 18,
                scale: 6,
                nullable: false,
                defaultValue: 0m);

            migrationBuilder.CreateTable(
                name: "allocation_advances",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    allocation_id = table.Column<Guid>(type: "uuid", nullable: false),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    hours = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false),
                    reason = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    granted_by = table.Column<Guid>(type: "uuid", nullable: false),
                    granted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_allocation_advances", x => x.id);
                    table.CheckConstraint("ck_allocation_advances_hours", "hours > 0");
                    table.ForeignKey(
                        name: "fk_allocation_advances_allocations_allocation_id",
                        column: x => x.allocation_id,
                        principalTable: "allocations",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_allocation_advances_clusters_cluster_id",
                        column: x => x.cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_allocation_advances_proposals_proposal_id",
                        column: x => x.proposal_id,
                        principalTable: "proposals",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "allocation_tranches",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    allocation_id = table.Column<Guid>(type: "uuid", nullable: false),
                    number = table.Column<int>(type: "integer", nullable: false),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    hours = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false),
                    condition = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    released_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    released_by = table.Column<Guid>(type: "uuid", nullable: true),
                    outcome = table.Column<string>(type: "character varying(600)", maxLength: 600, nullable: true),
                    cancelled = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_allocation_tranches", x => x.id);
                    table.CheckConstraint("ck_allocation_tranches_hours", "hours >= 0 AND number >= 2");
                    table.ForeignKey(
                        name: "fk_allocation_tranches_allocations_allocation_id",
                        column: x => x.allocation_id,
                        principalTable: "allocations",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_allocation_tranches_clusters_cluster_id",
                        column: x => x.cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "charge_policies",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    version = table.Column<int>(type: "integer", nullable: false),
                    effective_from = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    rates_text = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    multipliers_text = table.Column<string>(type: "character varying(8000)", maxLength: 8000, nullable: false),
                    note = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    created_by = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_charge_policies", x => x.id);
                    table.CheckConstraint("ck_charge_policies_version_positive", "version > 0");
                    table.ForeignKey(
                        name: "fk_charge_policies_clusters_cluster_id",
                        column: x => x.cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "transfer_requests",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    allocation_id = table.Column<Guid>(type: "uuid", nullable: false),
                    from_cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    to_cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    hours = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false),
                    justification = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    requested_by = table.Column<Guid>(type: "uuid", nullable: false),
                    requested_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    decided_by = table.Column<Guid>(type: "uuid", nullable: true),
                    decided_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    decision_message = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_transfer_requests", x => x.id);
                    table.CheckConstraint("ck_transfer_requests_hours", "hours > 0 AND from_cluster_id <> to_cluster_id");
                    table.ForeignKey(
                        name: "fk_transfer_requests_allocations_allocation_id",
                        column: x => x.allocation_id,
                        principalTable: "allocations",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_transfer_requests_clusters_from_cluster_id",
                        column: x => x.from_cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_transfer_requests_clusters_to_cluster_id",
                        column: x => x.to_cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_ledger_entries_advance_id",
                table: "ledger_entries",
                column: "advance_id");

            migrationBuilder.CreateIndex(
                name: "ix_ledger_entries_charge_policy_id",
                table: "ledger_entries",
                column: "charge_policy_id");

            migrationBuilder.AddCheckConstraint(
                name: "ck_ledger_entries_sign_follows_kind",
                table: "ledger_entries",
                sql: "(kind IN ('Grant', 'Supplement', 'TransferIn', 'TrancheRelease', 'Advance') AND hours >= 0) OR (kind IN ('Usage', 'TransferOut', 'Expiry', 'AdvanceDeduction') AND hours <= 0) OR kind = 'Adjustment'");

            migrationBuilder.CreateIndex(
                name: "ix_allocation_advances_allocation_id",
                table: "allocation_advances",
                column: "allocation_id");

            migrationBuilder.CreateIndex(
                name: "ix_allocation_advances_cluster_id",
                table: "allocation_advances",
                column: "cluster_id");

            migrationBuilder.CreateIndex(
                name: "ix_allocation_advances_proposal_id_cluster_id",
                table: "allocation_advances",
                columns: new[] { "proposal_id", "cluster_id" });

            migrationBuilder.CreateIndex(
                name: "ix_allocation_tranches_allocation_id_number_cluster_id",
                table: "allocation_tranches",
                columns: new[] { "allocation_id", "number", "cluster_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_allocation_tranches_cluster_id",
                table: "allocation_tranches",
                column: "cluster_id");

            migrationBuilder.CreateIndex(
                name: "ix_charge_policies_cluster_id_effective_from",
                table: "charge_policies",
                columns: new[] { "cluster_id", "effective_from" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_charge_policies_cluster_id_version",
                table: "charge_policies",
                columns: new[] { "cluster_id", "version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_transfer_requests_allocation_id_status",
                table: "transfer_requests",
                columns: new[] { "allocation_id", "status" });

            migrationBuilder.CreateIndex(
                name: "ix_transfer_requests_from_cluster_id",
                table: "transfer_requests",
                column: "from_cluster_id");

            migrationBuilder.CreateIndex(
                name: "ix_transfer_requests_to_cluster_id",
                table: "transfer_requests",
                column: "to_cluster_id");

            migrationBuilder.AddForeignKey(
                name: "fk_ledger_entries_allocation_advances_advance_id",
                table: "ledger_entries",
                column: "advance_id",
                principalTable: "allocation_advances",
                principalColumn: "id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "fk_ledger_entries_charge_policies_charge_policy_id",
                table: "ledger_entries",
                column: "charge_policy_id",
                principalTable: "charge_policies",
                principalColumn: "id",
                onDelete: ReferentialAction.Restrict);

            // A change of rates is a new version and an advance is never edited: both tables are append-only.
            migrationBuilder.Sql(AppendOnlyTables.Protect("charge_policies"));
            migrationBuilder.Sql(AppendOnlyTables.Protect("allocation_advances"));

            // Existing clusters keep what their hours meant: version 1, rate 1 per GPU-hour, in force for every job they
            // ever reported. Usage and ledger rows recorded before keep a null policy and their GPU-hours, the same thing,
            // so no row of the append-only ledger is rewritten.
            migrationBuilder.Sql("""
                INSERT INTO charge_policies (id, cluster_id, version, effective_from, rates_text, multipliers_text, note, created_at, created_by)
                SELECT gen_random_uuid(), id, 1, TIMESTAMPTZ '1970-01-01 00:00:00+00', 'gres/gpu=1', '',
                       'Rate 1 per GPU-hour: existing hours kept their meaning when charge rates came', now(), NULL
                FROM clusters
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_ledger_entries_allocation_advances_advance_id",
                table: "ledger_entries");

            migrationBuilder.DropForeignKey(
                name: "fk_ledger_entries_charge_policies_charge_policy_id",
                table: "ledger_entries");

            migrationBuilder.DropTable(
                name: "allocation_advances");

            migrationBuilder.DropTable(
                name: "allocation_tranches");

            migrationBuilder.DropTable(
                name: "charge_policies");

            migrationBuilder.DropTable(
                name: "transfer_requests");

            migrationBuilder.DropIndex(
                name: "ix_ledger_entries_advance_id",
                table: "ledger_entries");

            migrationBuilder.DropIndex(
                name: "ix_ledger_entries_charge_policy_id",
                table: "ledger_entries");

            migrationBuilder.DropCheckConstraint(
                name: "ck_ledger_entries_sign_follows_kind",
                table: "ledger_entries");

            migrationBuilder.DropColumn(
                name: "charge_policy_id",
                table: "usage_records");

            migrationBuilder.DropColumn(
                name: "charged_hours",
                table: "usage_records");

            migrationBuilder.DropColumn(
                name: "advance_id",
                table: "ledger_entries");

            migrationBuilder.DropColumn(
                name: "charge_policy_id",
                table: "ledger_entries");

            migrationBuilder.DropColumn(
                name: "held_hours",
                table: "allocation_quotas");

            migrationBuilder.AddCheckConstraint(
                name: "ck_ledger_entries_sign_follows_kind",
                table: "ledger_entries",
                sql: "(kind IN ('Grant', 'Supplement', 'TransferIn') AND hours >= 0) OR (kind IN ('Usage', 'TransferOut', 'Expiry') AND hours <= 0) OR kind = 'Adjustment'");
        }
    }
}

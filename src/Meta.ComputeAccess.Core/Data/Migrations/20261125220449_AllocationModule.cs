using System;
using Meta.ComputeAccess.Allocations;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class AllocationModule : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "allocation_periods",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    start_date = table.Column<DateOnly>(type: "date", nullable: false),
                    end_date = table.Column<DateOnly>(type: "date", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_allocation_periods", x => x.id);
                    table.CheckConstraint("ck_allocation_periods_dates", "end_date > start_date");
                });

            migrationBuilder.CreateTable(
                name: "cluster_tokens",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    prefix = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    secret_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    created_by = table.Column<Guid>(type: "uuid", nullable: true),
                    last_used_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    revoked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    revoked_by = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_tokens", x => x.id);
                    table.ForeignKey(
                        name: "fk_cluster_tokens_clusters_cluster_id",
                        column: x => x.cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "unmatched_usage",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    usage_record_id = table.Column<long>(type: "bigint", nullable: false),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    account = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    gpu_hours = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    allocation_id = table.Column<Guid>(type: "uuid", nullable: true),
                    resolved_by = table.Column<Guid>(type: "uuid", nullable: true),
                    resolved_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    resolution = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_unmatched_usage", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "usage_records",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    job_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    account = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    user_name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ended_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    elapsed_seconds = table.Column<long>(type: "bigint", nullable: false),
                    gpu_count = table.Column<int>(type: "integer", nullable: false),
                    gpu_hours = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false),
                    state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    allocation_id = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_usage_records", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "allocations",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    period_id = table.Column<Guid>(type: "uuid", nullable: false),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: true),
                    pi_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    project_title = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    slurm_account = table.Column<string>(type: "character varying(30)", maxLength: 30, nullable: false),
                    start_date = table.Column<DateOnly>(type: "date", nullable: false),
                    end_date = table.Column<DateOnly>(type: "date", nullable: false),
                    state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_allocations", x => x.id);
                    table.CheckConstraint("ck_allocations_dates", "end_date >= start_date");
                    table.ForeignKey(
                        name: "fk_allocations_allocation_periods_period_id",
                        column: x => x.period_id,
                        principalTable: "allocation_periods",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_allocations_asp_net_users_pi_user_id",
                        column: x => x.pi_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "cluster_capacities",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    period_id = table.Column<Guid>(type: "uuid", nullable: false),
                    capacity_hours = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false),
                    oversubscription_factor = table.Column<decimal>(type: "numeric(6,3)", precision: 6, scale: 3, nullable: false),
                    reserve_hours = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false),
                    committed_hours = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_capacities", x => x.id);
                    table.CheckConstraint("ck_cluster_capacities_non_negative", "capacity_hours >= 0 AND reserve_hours >= 0 AND committed_hours >= 0 AND oversubscription_factor >= 1");
                    table.CheckConstraint("ck_cluster_capacities_within_limit", "committed_hours <= capacity_hours * oversubscription_factor - reserve_hours");
                    table.ForeignKey(
                        name: "fk_cluster_capacities_allocation_periods_period_id",
                        column: x => x.period_id,
                        principalTable: "allocation_periods",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_cluster_capacities_clusters_cluster_id",
                        column: x => x.cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "allocation_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    allocation_id = table.Column<Guid>(type: "uuid", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    actor_user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    action = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    from_state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    to_state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    detail = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_allocation_events", x => x.id);
                    table.ForeignKey(
                        name: "fk_allocation_events_allocations_allocation_id",
                        column: x => x.allocation_id,
                        principalTable: "allocations",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "allocation_notices_sent",
                columns: table => new
                {
                    allocation_id = table.Column<Guid>(type: "uuid", nullable: false),
                    key = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    sent_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_allocation_notices_sent", x => new { x.allocation_id, x.key });
                    table.ForeignKey(
                        name: "fk_allocation_notices_sent_allocations_allocation_id",
                        column: x => x.allocation_id,
                        principalTable: "allocations",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "allocation_quotas",
                columns: table => new
                {
                    allocation_id = table.Column<Guid>(type: "uuid", nullable: false),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    granted_hours = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false),
                    used_hours = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false),
                    expired_hours = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_allocation_quotas", x => new { x.allocation_id, x.cluster_id });
                    table.ForeignKey(
                        name: "fk_allocation_quotas_allocations_allocation_id",
                        column: x => x.allocation_id,
                        principalTable: "allocations",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_allocation_quotas_clusters_cluster_id",
                        column: x => x.cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "supplement_requests",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    allocation_id = table.Column<Guid>(type: "uuid", nullable: false),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: true),
                    requested_hours = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: true),
                    requested_end_date = table.Column<DateOnly>(type: "date", nullable: true),
                    justification = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    requested_by = table.Column<Guid>(type: "uuid", nullable: false),
                    requested_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    approved_hours = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: true),
                    approved_end_date = table.Column<DateOnly>(type: "date", nullable: true),
                    decided_by = table.Column<Guid>(type: "uuid", nullable: true),
                    decided_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    decision_message = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_supplement_requests", x => x.id);
                    table.ForeignKey(
                        name: "fk_supplement_requests_allocations_allocation_id",
                        column: x => x.allocation_id,
                        principalTable: "allocations",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "ledger_entries",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    allocation_id = table.Column<Guid>(type: "uuid", nullable: false),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    hours = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false),
                    effective_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    recorded_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    cause = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    actor_user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    usage_record_id = table.Column<long>(type: "bigint", nullable: true),
                    supplement_request_id = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_ledger_entries", x => x.id);
                    table.CheckConstraint("ck_ledger_entries_sign_follows_kind", "(kind IN ('Grant', 'Supplement', 'TransferIn') AND hours >= 0) OR (kind IN ('Usage', 'TransferOut', 'Expiry') AND hours <= 0) OR kind = 'Adjustment'");
                    table.ForeignKey(
                        name: "fk_ledger_entries_allocations_allocation_id",
                        column: x => x.allocation_id,
                        principalTable: "allocations",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_ledger_entries_clusters_cluster_id",
                        column: x => x.cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_ledger_entries_supplement_requests_supplement_request_id",
                        column: x => x.supplement_request_id,
                        principalTable: "supplement_requests",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_allocation_events_allocation_id_at",
                table: "allocation_events",
                columns: new[] { "allocation_id", "at" });

            migrationBuilder.CreateIndex(
                name: "ix_allocation_periods_name",
                table: "allocation_periods",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_allocation_quotas_cluster_id",
                table: "allocation_quotas",
                column: "cluster_id");

            migrationBuilder.CreateIndex(
                name: "ix_allocations_period_id",
                table: "allocations",
                column: "period_id");

            migrationBuilder.CreateIndex(
                name: "ix_allocations_pi_user_id",
                table: "allocations",
                column: "pi_user_id");

            migrationBuilder.CreateIndex(
                name: "ix_allocations_proposal_id",
                table: "allocations",
                column: "proposal_id");

            migrationBuilder.CreateIndex(
                name: "ix_allocations_slurm_account",
                table: "allocations",
                column: "slurm_account",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_allocations_state",
                table: "allocations",
                column: "state");

            migrationBuilder.CreateIndex(
                name: "ix_cluster_capacities_cluster_id_period_id",
                table: "cluster_capacities",
                columns: new[] { "cluster_id", "period_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_cluster_capacities_period_id",
                table: "cluster_capacities",
                column: "period_id");

            migrationBuilder.CreateIndex(
                name: "ix_cluster_tokens_cluster_id",
                table: "cluster_tokens",
                column: "cluster_id");

            migrationBuilder.CreateIndex(
                name: "ix_cluster_tokens_secret_hash",
                table: "cluster_tokens",
                column: "secret_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_ledger_entries_allocation_id_cluster_id_effective_at",
                table: "ledger_entries",
                columns: new[] { "allocation_id", "cluster_id", "effective_at" });

            migrationBuilder.CreateIndex(
                name: "ix_ledger_entries_cluster_id",
                table: "ledger_entries",
                column: "cluster_id");

            migrationBuilder.CreateIndex(
                name: "ix_ledger_entries_supplement_request_id",
                table: "ledger_entries",
                column: "supplement_request_id");

            migrationBuilder.CreateIndex(
                name: "ix_ledger_entries_usage_record_id",
                table: "ledger_entries",
                column: "usage_record_id",
                unique: true,
                filter: "usage_record_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_supplement_requests_allocation_id_status",
                table: "supplement_requests",
                columns: new[] { "allocation_id", "status" });

            migrationBuilder.CreateIndex(
                name: "ix_unmatched_usage_status_cluster_id_account",
                table: "unmatched_usage",
                columns: new[] { "status", "cluster_id", "account" });

            migrationBuilder.CreateIndex(
                name: "ix_unmatched_usage_usage_record_id",
                table: "unmatched_usage",
                column: "usage_record_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_usage_records_allocation_id_ended_at",
                table: "usage_records",
                columns: new[] { "allocation_id", "ended_at" });

            migrationBuilder.CreateIndex(
                name: "ix_usage_records_cluster_id_job_id",
                table: "usage_records",
                columns: new[] { "cluster_id", "job_id" },
                unique: true);

            migrationBuilder.Sql(AllocationSql.Up);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(AllocationSql.Down);

            migrationBuilder.DropTable(
                name: "allocation_events");

            migrationBuilder.DropTable(
                name: "allocation_notices_sent");

            migrationBuilder.DropTable(
                name: "allocation_quotas");

            migrationBuilder.DropTable(
                name: "cluster_capacities");

            migrationBuilder.DropTable(
                name: "cluster_tokens");

            migrationBuilder.DropTable(
                name: "ledger_entries");

            migrationBuilder.DropTable(
                name: "unmatched_usage");

            migrationBuilder.DropTable(
                name: "usage_records");

            migrationBuilder.DropTable(
                name: "supplement_requests");

            migrationBuilder.DropTable(
                name: "allocations");

            migrationBuilder.DropTable(
                name: "allocation_periods");
        }
    }
}

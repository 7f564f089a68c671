using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class ClusterSync : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_allocations_slurm_account",
                table: "allocations");

            migrationBuilder.CreateTable(
                name: "allocation_member_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    allocation_id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    actor_user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    action = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    detail = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_allocation_member_events", x => x.id);
                    table.ForeignKey(
                        name: "fk_allocation_member_events_allocations_allocation_id",
                        column: x => x.allocation_id,
                        principalTable: "allocations",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_allocation_member_events_asp_net_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "allocation_members",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    allocation_id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    role = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    since = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_allocation_members", x => x.id);
                    table.ForeignKey(
                        name: "fk_allocation_members_allocations_allocation_id",
                        column: x => x.allocation_id,
                        principalTable: "allocations",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_allocation_members_asp_net_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "cluster_logins",
                columns: table => new
                {
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    login = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C"),
                    confirmed = table.Column<bool>(type: "boolean", nullable: false),
                    changed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_logins", x => new { x.user_id, x.cluster_id });
                    table.ForeignKey(
                        name: "fk_cluster_logins_asp_net_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_cluster_logins_clusters_cluster_id",
                        column: x => x.cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "cluster_plan_versions",
                columns: table => new
                {
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    etag = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false, collation: "C"),
                    first_served_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    accounts = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_plan_versions", x => new { x.cluster_id, x.etag });
                    table.ForeignKey(
                        name: "fk_cluster_plan_versions_clusters_cluster_id",
                        column: x => x.cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "cluster_silence_alerts",
                columns: table => new
                {
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    since = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    sent_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_silence_alerts", x => new { x.cluster_id, x.since });
                    table.ForeignKey(
                        name: "fk_cluster_silence_alerts_clusters_cluster_id",
                        column: x => x.cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "cluster_sync_reports",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    agent_version = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    plan_etag = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    dry_run = table.Column<bool>(type: "boolean", nullable: false),
                    error = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    account_count = table.Column<int>(type: "integer", nullable: false),
                    failed_count = table.Column<int>(type: "integer", nullable: false),
                    body_sha256 = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_sync_reports", x => x.id);
                    table.ForeignKey(
                        name: "fk_cluster_sync_reports_clusters_cluster_id",
                        column: x => x.cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "cluster_sync_outcomes",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    report_id = table.Column<long>(type: "bigint", nullable: false),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    account = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, collation: "C"),
                    allocation_id = table.Column<Guid>(type: "uuid", nullable: true),
                    outcome = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    in_slurm = table.Column<bool>(type: "boolean", nullable: false),
                    limit_applied = table.Column<long>(type: "bigint", nullable: true),
                    usage_reset_epoch = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    members_added = table.Column<string[]>(type: "text[]", nullable: false),
                    members_removed = table.Column<string[]>(type: "text[]", nullable: false),
                    members_in_slurm = table.Column<string[]>(type: "text[]", nullable: false),
                    usage_in_slurm_minutes = table.Column<long>(type: "bigint", nullable: true),
                    error = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_cluster_sync_outcomes", x => x.id);
                    table.ForeignKey(
                        name: "fk_cluster_sync_outcomes_allocations_allocation_id",
                        column: x => x.allocation_id,
                        principalTable: "allocations",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_cluster_sync_outcomes_cluster_sync_reports_report_id",
                        column: x => x.report_id,
                        principalTable: "cluster_sync_reports",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_allocations_slurm_account",
                table: "allocations",
                column: "slurm_account");

            migrationBuilder.CreateIndex(
                name: "ix_allocation_member_events_allocation_id_at",
                table: "allocation_member_events",
                columns: new[] { "allocation_id", "at" });

            migrationBuilder.CreateIndex(
                name: "ix_allocation_member_events_user_id",
                table: "allocation_member_events",
                column: "user_id");

            migrationBuilder.CreateIndex(
                name: "ix_allocation_members_allocation_id_user_id",
                table: "allocation_members",
                columns: new[] { "allocation_id", "user_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_allocation_members_user_id_status",
                table: "allocation_members",
                columns: new[] { "user_id", "status" });

            migrationBuilder.CreateIndex(
                name: "ix_cluster_logins_cluster_id_login",
                table: "cluster_logins",
                columns: new[] { "cluster_id", "login" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_cluster_sync_outcomes_account_cluster_id_id",
                table: "cluster_sync_outcomes",
                columns: new[] { "account", "cluster_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_cluster_sync_outcomes_allocation_id",
                table: "cluster_sync_outcomes",
                column: "allocation_id");

            migrationBuilder.CreateIndex(
                name: "ix_cluster_sync_outcomes_report_id",
                table: "cluster_sync_outcomes",
                column: "report_id");

            migrationBuilder.CreateIndex(
                name: "ix_cluster_sync_reports_cluster_id_body_sha256",
                table: "cluster_sync_reports",
                columns: new[] { "cluster_id", "body_sha256" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_cluster_sync_reports_cluster_id_id",
                table: "cluster_sync_reports",
                columns: new[] { "cluster_id", "id" });

            migrationBuilder.Sql(Meta.ComputeAccess.Allocations.AllocationSql.SyncUp);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(Meta.ComputeAccess.Allocations.AllocationSql.SyncDown);

            migrationBuilder.DropTable(
                name: "allocation_member_events");

            migrationBuilder.DropTable(
                name: "allocation_members");

            migrationBuilder.DropTable(
                name: "cluster_logins");

            migrationBuilder.DropTable(
                name: "cluster_plan_versions");

            migrationBuilder.DropTable(
                name: "cluster_silence_alerts");

            migrationBuilder.DropTable(
                name: "cluster_sync_outcomes");

            migrationBuilder.DropTable(
                name: "cluster_sync_reports");

            migrationBuilder.DropIndex(
                name: "ix_allocations_slurm_account",
                table: "allocations");

            migrationBuilder.CreateIndex(
                name: "ix_allocations_slurm_account",
                table: "allocations",
                column: "slurm_account",
                unique: true);
        }
    }
}

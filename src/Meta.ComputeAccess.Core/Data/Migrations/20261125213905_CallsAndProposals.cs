using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;
using NpgsqlTypes;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class CallsAndProposals : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<List<string>>(
                name: "research_fields",
                table: "users",
                type: "text[]",
                nullable: false);

            migrationBuilder.AddColumn<string>(
                name: "time_zone_id",
                table: "users",
                type: "character varying(64)",
                maxLength: 64,
                nullable: false,
                defaultValue: "UTC");

            migrationBuilder.CreateTable(
                name: "calls",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    title = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    slug = table.Column<string>(type: "character varying(60)", maxLength: 60, nullable: false),
                    description_markdown = table.Column<string>(type: "text", nullable: false),
                    eligibility_text = table.Column<string>(type: "text", nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    opens_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    closes_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    award_start = table.Column<DateOnly>(type: "date", nullable: false),
                    award_end = table.Column<DateOnly>(type: "date", nullable: false),
                    reviews_per_proposal = table.Column<int>(type: "integer", nullable: false),
                    review_mode = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    time_zone_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    closed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_calls", x => x.id);
                    table.CheckConstraint("ck_calls_award_period", "award_end > award_start");
                    table.CheckConstraint("ck_calls_closes_after_opens", "closes_at IS NULL OR closes_at > opens_at");
                    table.CheckConstraint("ck_calls_reviews_per_proposal", "reviews_per_proposal BETWEEN 1 AND 10");
                });

            migrationBuilder.CreateTable(
                name: "call_clusters",
                columns: table => new
                {
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    call_id = table.Column<Guid>(type: "uuid", nullable: false),
                    budget_hours = table.Column<decimal>(type: "numeric(14,2)", precision: 14, scale: 2, nullable: false),
                    min_request_hours = table.Column<decimal>(type: "numeric(14,2)", precision: 14, scale: 2, nullable: false),
                    max_request_hours = table.Column<decimal>(type: "numeric(14,2)", precision: 14, scale: 2, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_call_clusters", x => new { x.call_id, x.cluster_id });
                    table.CheckConstraint("ck_call_clusters_bounds", "min_request_hours >= 0 AND min_request_hours <= max_request_hours AND max_request_hours <= budget_hours");
                    table.ForeignKey(
                        name: "fk_call_clusters_calls_call_id",
                        column: x => x.call_id,
                        principalTable: "calls",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_call_clusters_clusters_cluster_id",
                        column: x => x.cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "proposals",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    call_id = table.Column<Guid>(type: "uuid", nullable: false),
                    pi_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    title = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    abstract_markdown = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: false),
                    keywords = table.Column<List<string>>(type: "text[]", nullable: false),
                    keywords_text = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    research_field = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    compute_justification = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: false),
                    uses_personal_data = table.Column<bool>(type: "boolean", nullable: true),
                    personal_data_details = table.Column<string>(type: "character varying(5000)", maxLength: 5000, nullable: false),
                    has_dual_use_risk = table.Column<bool>(type: "boolean", nullable: true),
                    dual_use_details = table.Column<string>(type: "character varying(5000)", maxLength: 5000, nullable: false),
                    licences = table.Column<string>(type: "character varying(5000)", maxLength: 5000, nullable: false),
                    planned_outputs = table.Column<int>(type: "integer", maxLength: 32, nullable: false),
                    outputs_details = table.Column<string>(type: "character varying(5000)", maxLength: 5000, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    submitted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    decision = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    decision_released_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false),
                    search_vector = table.Column<NpgsqlTsVector>(type: "tsvector", nullable: true, computedColumnSql: "setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', coalesce(keywords_text, '')), 'A') || setweight(to_tsvector('english', coalesce(abstract_markdown, '')), 'B')", stored: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_proposals", x => x.id);
                    table.ForeignKey(
                        name: "fk_proposals_calls_call_id",
                        column: x => x.call_id,
                        principalTable: "calls",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_proposals_users_pi_user_id",
                        column: x => x.pi_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "rubric_criteria",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    position = table.Column<int>(type: "integer", nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    guidance = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    weight = table.Column<decimal>(type: "numeric(6,2)", precision: 6, scale: 2, nullable: false),
                    call_id = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_rubric_criteria", x => x.id);
                    table.ForeignKey(
                        name: "fk_rubric_criteria_calls_call_id",
                        column: x => x.call_id,
                        principalTable: "calls",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "proposal_attachments",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    file_name = table.Column<string>(type: "character varying(160)", maxLength: 160, nullable: false),
                    size_bytes = table.Column<long>(type: "bigint", nullable: false),
                    sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    content = table.Column<byte[]>(type: "bytea", nullable: false),
                    uploaded_by = table.Column<Guid>(type: "uuid", nullable: false),
                    uploaded_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_proposal_attachments", x => x.id);
                    table.CheckConstraint("ck_attachments_size", "size_bytes > 0 AND size_bytes <= 10485760");
                    table.ForeignKey(
                        name: "fk_proposal_attachments_proposals_proposal_id",
                        column: x => x.proposal_id,
                        principalTable: "proposals",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "proposal_cluster_requests",
                columns: table => new
                {
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    requested_hours = table.Column<decimal>(type: "numeric(14,2)", precision: 14, scale: 2, nullable: false),
                    minimum_viable_hours = table.Column<decimal>(type: "numeric(14,2)", precision: 14, scale: 2, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_proposal_cluster_requests", x => new { x.proposal_id, x.cluster_id });
                    table.CheckConstraint("ck_requests_hours", "requested_hours > 0 AND minimum_viable_hours >= 0 AND minimum_viable_hours <= requested_hours");
                    table.ForeignKey(
                        name: "fk_proposal_cluster_requests_clusters_cluster_id",
                        column: x => x.cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_proposal_cluster_requests_proposals_proposal_id",
                        column: x => x.proposal_id,
                        principalTable: "proposals",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "proposal_history",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    actor_user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    from_status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    to_status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    reason = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_proposal_history", x => x.id);
                    table.ForeignKey(
                        name: "fk_proposal_history_proposals_proposal_id",
                        column: x => x.proposal_id,
                        principalTable: "proposals",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "proposal_members",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    role = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    invited_email = table.Column<string>(type: "character varying(254)", maxLength: 254, nullable: true),
                    invited_email_normalized = table.Column<string>(type: "character varying(254)", maxLength: 254, nullable: true),
                    invited_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    joined_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_proposal_members", x => x.id);
                    table.ForeignKey(
                        name: "fk_proposal_members_proposals_proposal_id",
                        column: x => x.proposal_id,
                        principalTable: "proposals",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_proposal_members_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_call_clusters_cluster_id",
                table: "call_clusters",
                column: "cluster_id");

            migrationBuilder.CreateIndex(
                name: "ix_calls_slug",
                table: "calls",
                column: "slug",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_calls_status",
                table: "calls",
                column: "status");

            migrationBuilder.CreateIndex(
                name: "ix_proposal_attachments_proposal_id",
                table: "proposal_attachments",
                column: "proposal_id");

            migrationBuilder.CreateIndex(
                name: "ix_proposal_cluster_requests_cluster_id",
                table: "proposal_cluster_requests",
                column: "cluster_id");

            migrationBuilder.CreateIndex(
                name: "ix_proposal_history_proposal_id_id",
                table: "proposal_history",
                columns: new[] { "proposal_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_proposal_members_invited_email_normalized",
                table: "proposal_members",
                column: "invited_email_normalized",
                filter: "user_id IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_proposal_members_proposal_id_user_id",
                table: "proposal_members",
                columns: new[] { "proposal_id", "user_id" },
                unique: true,
                filter: "user_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_proposal_members_user_id_proposal_id",
                table: "proposal_members",
                columns: new[] { "user_id", "proposal_id" });

            migrationBuilder.CreateIndex(
                name: "ix_proposals_call_id_status",
                table: "proposals",
                columns: new[] { "call_id", "status" });

            migrationBuilder.CreateIndex(
                name: "ix_proposals_call_id_submitted_at",
                table: "proposals",
                columns: new[] { "call_id", "submitted_at" });

            migrationBuilder.CreateIndex(
                name: "ix_proposals_pi_user_id",
                table: "proposals",
                column: "pi_user_id");

            migrationBuilder.CreateIndex(
                name: "ix_proposals_search_vector",
                table: "proposals",
                column: "search_vector")
                .Annotation("Npgsql:IndexMethod", "GIN");

            migrationBuilder.CreateIndex(
                name: "ix_rubric_criteria_call_id",
                table: "rubric_criteria",
                column: "call_id");

            migrationBuilder.Sql(AppendOnlyTables.Protect("proposal_history"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "call_clusters");

            migrationBuilder.DropTable(
                name: "proposal_attachments");

            migrationBuilder.DropTable(
                name: "proposal_cluster_requests");

            migrationBuilder.DropTable(
                name: "proposal_history");

            migrationBuilder.DropTable(
                name: "proposal_members");

            migrationBuilder.DropTable(
                name: "rubric_criteria");

            migrationBuilder.DropTable(
                name: "proposals");

            migrationBuilder.DropTable(
                name: "calls");

            migrationBuilder.DropColumn(
                name: "research_fields",
                table: "users");

            migrationBuilder.DropColumn(
                name: "time_zone_id",
                table: "users");
        }
    }
}

using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class ReviewWorkflow : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "award_responded_at",
                table: "proposals",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "award_response",
                table: "proposals",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "decision_message",
                table: "proposals",
                type: "character varying(4000)",
                maxLength: 4000,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "review_deadline",
                table: "calls",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "assignment_runs",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    call_id = table.Column<Guid>(type: "uuid", nullable: false),
                    created_by_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    seed = table.Column<int>(type: "integer", nullable: false),
                    settings_json = table.Column<string>(type: "jsonb", nullable: false),
                    inputs_json = table.Column<string>(type: "jsonb", nullable: false),
                    result_json = table.Column<string>(type: "jsonb", nullable: false),
                    objective = table.Column<long>(type: "bigint", nullable: false),
                    applied_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    applied_by_user_id = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_assignment_runs", x => x.id);
                    table.ForeignKey(
                        name: "fk_assignment_runs_calls_call_id",
                        column: x => x.call_id,
                        principalTable: "calls",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "proposal_awards",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    hours = table.Column<decimal>(type: "numeric(14,2)", precision: 14, scale: 2, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_proposal_awards", x => x.id);
                    table.CheckConstraint("ck_proposal_awards_hours", "hours > 0");
                    table.ForeignKey(
                        name: "fk_proposal_awards_clusters_cluster_id",
                        column: x => x.cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_proposal_awards_proposals_proposal_id",
                        column: x => x.proposal_id,
                        principalTable: "proposals",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "review_bids",
                columns: table => new
                {
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    reviewer_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    call_id = table.Column<Guid>(type: "uuid", nullable: false),
                    bid = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_review_bids", x => new { x.proposal_id, x.reviewer_user_id });
                    table.ForeignKey(
                        name: "fk_review_bids_proposals_proposal_id",
                        column: x => x.proposal_id,
                        principalTable: "proposals",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_review_bids_users_reviewer_user_id",
                        column: x => x.reviewer_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "review_conflicts",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    call_id = table.Column<Guid>(type: "uuid", nullable: false),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    reviewer_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    source = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    reason = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    detected_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    resolved_by_user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    resolved_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_review_conflicts", x => x.id);
                    table.ForeignKey(
                        name: "fk_review_conflicts_proposals_proposal_id",
                        column: x => x.proposal_id,
                        principalTable: "proposals",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_review_conflicts_users_reviewer_user_id",
                        column: x => x.reviewer_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "reviewer_collaborators",
                columns: table => new
                {
                    reviewer_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    collaborator_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    declared_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_reviewer_collaborators", x => new { x.reviewer_user_id, x.collaborator_user_id });
                    table.ForeignKey(
                        name: "fk_reviewer_collaborators_users_collaborator_user_id",
                        column: x => x.collaborator_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_reviewer_collaborators_users_reviewer_user_id",
                        column: x => x.reviewer_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "reviewer_pool_members",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    call_id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    keywords = table.Column<List<string>>(type: "text[]", nullable: false),
                    max_load = table.Column<int>(type: "integer", nullable: false),
                    added_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_reviewer_pool_members", x => x.id);
                    table.CheckConstraint("ck_pool_max_load", "max_load BETWEEN 0 AND 200");
                    table.ForeignKey(
                        name: "fk_reviewer_pool_members_calls_call_id",
                        column: x => x.call_id,
                        principalTable: "calls",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_reviewer_pool_members_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "reviews",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    call_id = table.Column<Guid>(type: "uuid", nullable: false),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    reviewer_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    assigned_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    assigned_by_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    assignment_run_id = table.Column<Guid>(type: "uuid", nullable: true),
                    overall = table.Column<int>(type: "integer", nullable: true),
                    confidence = table.Column<int>(type: "integer", nullable: true),
                    comments_for_applicants = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: false),
                    confidential_comments = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: false),
                    submitted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    due_reminder_sent_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    overdue_reminder_sent_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_reviews", x => x.id);
                    table.CheckConstraint("ck_reviews_confidence", "confidence IS NULL OR confidence BETWEEN 1 AND 3");
                    table.CheckConstraint("ck_reviews_overall", "overall IS NULL OR overall BETWEEN 1 AND 10");
                    table.ForeignKey(
                        name: "fk_reviews_proposals_proposal_id",
                        column: x => x.proposal_id,
                        principalTable: "proposals",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_reviews_users_reviewer_user_id",
                        column: x => x.reviewer_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "screenings",
                columns: table => new
                {
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    eligible = table.Column<bool>(type: "boolean", nullable: false),
                    eligibility_reason = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    technical = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    technical_note = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    screened_by_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    screened_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_screenings", x => x.proposal_id);
                    table.ForeignKey(
                        name: "fk_screenings_proposals_proposal_id",
                        column: x => x.proposal_id,
                        principalTable: "proposals",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "assignment_run_pairs",
                columns: table => new
                {
                    run_id = table.Column<Guid>(type: "uuid", nullable: false),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    reviewer_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    affinity = table.Column<decimal>(type: "numeric(10,3)", precision: 10, scale: 3, nullable: false),
                    reason = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    added_by_admin = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_assignment_run_pairs", x => new { x.run_id, x.proposal_id, x.reviewer_user_id });
                    table.ForeignKey(
                        name: "fk_assignment_run_pairs_assignment_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "assignment_runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "review_criterion_scores",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    criterion_id = table.Column<Guid>(type: "uuid", nullable: false),
                    score = table.Column<int>(type: "integer", nullable: false),
                    review_id = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_review_criterion_scores", x => x.id);
                    table.CheckConstraint("ck_review_scores_range", "score BETWEEN 1 AND 5");
                    table.ForeignKey(
                        name: "fk_review_criterion_scores_reviews_review_id",
                        column: x => x.review_id,
                        principalTable: "reviews",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "review_recommended_hours",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    hours = table.Column<decimal>(type: "numeric(14,2)", precision: 14, scale: 2, nullable: false),
                    review_id = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_review_recommended_hours", x => x.id);
                    table.CheckConstraint("ck_review_hours", "hours >= 0");
                    table.ForeignKey(
                        name: "fk_review_recommended_hours_reviews_review_id",
                        column: x => x.review_id,
                        principalTable: "reviews",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "screening_caps",
                columns: table => new
                {
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    hours = table.Column<decimal>(type: "numeric(14,2)", precision: 14, scale: 2, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_screening_caps", x => new { x.proposal_id, x.cluster_id });
                    table.CheckConstraint("ck_screening_caps_hours", "hours >= 0");
                    table.ForeignKey(
                        name: "fk_screening_caps_clusters_cluster_id",
                        column: x => x.cluster_id,
                        principalTable: "clusters",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_screening_caps_screenings_proposal_id",
                        column: x => x.proposal_id,
                        principalTable: "screenings",
                        principalColumn: "proposal_id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_assignment_runs_call_id_created_at",
                table: "assignment_runs",
                columns: new[] { "call_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_proposal_awards_cluster_id",
                table: "proposal_awards",
                column: "cluster_id");

            migrationBuilder.CreateIndex(
                name: "ix_proposal_awards_proposal_id_cluster_id",
                table: "proposal_awards",
                columns: new[] { "proposal_id", "cluster_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_review_bids_call_id_reviewer_user_id",
                table: "review_bids",
                columns: new[] { "call_id", "reviewer_user_id" });

            migrationBuilder.CreateIndex(
                name: "ix_review_bids_reviewer_user_id",
                table: "review_bids",
                column: "reviewer_user_id");

            migrationBuilder.CreateIndex(
                name: "ix_review_conflicts_call_id",
                table: "review_conflicts",
                column: "call_id");

            migrationBuilder.CreateIndex(
                name: "ix_review_conflicts_proposal_id_reviewer_user_id_source",
                table: "review_conflicts",
                columns: new[] { "proposal_id", "reviewer_user_id", "source" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_review_conflicts_reviewer_user_id_proposal_id",
                table: "review_conflicts",
                columns: new[] { "reviewer_user_id", "proposal_id" });

            migrationBuilder.CreateIndex(
                name: "ix_review_criterion_scores_review_id_criterion_id",
                table: "review_criterion_scores",
                columns: new[] { "review_id", "criterion_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_review_recommended_hours_review_id_cluster_id",
                table: "review_recommended_hours",
                columns: new[] { "review_id", "cluster_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_reviewer_collaborators_collaborator_user_id",
                table: "reviewer_collaborators",
                column: "collaborator_user_id");

            migrationBuilder.CreateIndex(
                name: "ix_reviewer_pool_members_call_id_user_id",
                table: "reviewer_pool_members",
                columns: new[] { "call_id", "user_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_reviewer_pool_members_user_id",
                table: "reviewer_pool_members",
                column: "user_id");

            migrationBuilder.CreateIndex(
                name: "ix_reviews_call_id",
                table: "reviews",
                column: "call_id");

            migrationBuilder.CreateIndex(
                name: "ix_reviews_proposal_id_reviewer_user_id",
                table: "reviews",
                columns: new[] { "proposal_id", "reviewer_user_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_reviews_reviewer_user_id_call_id",
                table: "reviews",
                columns: new[] { "reviewer_user_id", "call_id" });

            migrationBuilder.CreateIndex(
                name: "ix_screening_caps_cluster_id",
                table: "screening_caps",
                column: "cluster_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "assignment_run_pairs");

            migrationBuilder.DropTable(
                name: "proposal_awards");

            migrationBuilder.DropTable(
                name: "review_bids");

            migrationBuilder.DropTable(
                name: "review_conflicts");

            migrationBuilder.DropTable(
                name: "review_criterion_scores");

            migrationBuilder.DropTable(
                name: "review_recommended_hours");

            migrationBuilder.DropTable(
                name: "reviewer_collaborators");

            migrationBuilder.DropTable(
                name: "reviewer_pool_members");

            migrationBuilder.DropTable(
                name: "screening_caps");

            migrationBuilder.DropTable(
                name: "assignment_runs");

            migrationBuilder.DropTable(
                name: "reviews");

            migrationBuilder.DropTable(
                name: "screenings");

            migrationBuilder.DropColumn(
                name: "award_responded_at",
                table: "proposals");

            migrationBuilder.DropColumn(
                name: "award_response",
                table: "proposals");

            migrationBuilder.DropColumn(
                name: "decision_message",
                table: "proposals");

            migrationBuilder.DropColumn(
                name: "review_deadline",
                table: "calls");
        }
    }
}

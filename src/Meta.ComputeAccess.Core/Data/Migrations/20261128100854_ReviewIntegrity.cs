using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <summary>
    /// Review integrity (issue 14). A reviewer's declared collaborators are kept by email address (as typed and normalized),
    /// not by account, so that declaring one never tells the reviewer whether the address has an account; existing
    /// declarations keep the address of the account they named. The applicants' response phase (calls.response_*,
    /// review_responses), review revisions after it, and appeals of released decisions.
    /// </summary>
    public partial class ReviewIntegrity : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_reviewer_collaborators_users_collaborator_user_id",
                table: "reviewer_collaborators");

            migrationBuilder.DropPrimaryKey(
                name: "pk_reviewer_collaborators",
                table: "reviewer_collaborators");

            migrationBuilder.DropIndex(
                name: "ix_reviewer_collaborators_collaborator_user_id",
                table: "reviewer_collaborators");

            migrationBuilder.AddColumn<string>(
                name: "normalized_email",
                table: "reviewer_collaborators",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "email",
                table: "reviewer_collaborators",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.Sql("""
                UPDATE reviewer_collaborators c SET email = u.email, normalized_email = u.normalized_email
                FROM users u WHERE u.id = c.collaborator_user_id;
                DELETE FROM reviewer_collaborators WHERE normalized_email IS NULL OR email IS NULL;
                """);

            migrationBuilder.AlterColumn<string>(
                name: "normalized_email",
                table: "reviewer_collaborators",
                type: "character varying(256)",
                maxLength: 256,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(256)",
                oldMaxLength: 256,
                oldNullable: true);

            migrationBuilder.AlterColumn<string>(
                name: "email",
                table: "reviewer_collaborators",
                type: "character varying(256)",
                maxLength: 256,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(256)",
                oldMaxLength: 256,
                oldNullable: true);

            migrationBuilder.DropColumn(
                name: "collaborator_user_id",
                table: "reviewer_collaborators");

            migrationBuilder.AddPrimaryKey(
                name: "pk_reviewer_collaborators",
                table: "reviewer_collaborators",
                columns: new[] { "reviewer_user_id", "normalized_email" });

            migrationBuilder.CreateIndex(
                name: "ix_reviewer_collaborators_normalized_email",
                table: "reviewer_collaborators",
                column: "normalized_email");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "response_deadline",
                table: "calls",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "response_opened_at",
                table: "calls",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "decision_appeals",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    call_id = table.Column<Guid>(type: "uuid", nullable: false),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    filed_by_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    reason = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    filed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    outcome = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    decision_reason = table.Column<string>(type: "character varying(900)", maxLength: 900, nullable: false),
                    decided_by_user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    decided_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_decision_appeals", x => x.id);
                    table.CheckConstraint("ck_decision_appeals_decided", "(outcome IS NULL AND decided_at IS NULL AND decided_by_user_id IS NULL) OR (outcome IS NOT NULL AND decided_at IS NOT NULL AND decided_by_user_id IS NOT NULL)");
                    table.ForeignKey(
                        name: "fk_decision_appeals_asp_net_users_decided_by_user_id",
                        column: x => x.decided_by_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_decision_appeals_asp_net_users_filed_by_user_id",
                        column: x => x.filed_by_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_decision_appeals_proposals_proposal_id",
                        column: x => x.proposal_id,
                        principalTable: "proposals",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "review_responses",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    call_id = table.Column<Guid>(type: "uuid", nullable: false),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    author_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    text_markdown = table.Column<string>(type: "character varying(5000)", maxLength: 5000, nullable: false),
                    submitted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_review_responses", x => x.id);
                    table.ForeignKey(
                        name: "fk_review_responses_proposals_proposal_id",
                        column: x => x.proposal_id,
                        principalTable: "proposals",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_review_responses_users_author_user_id",
                        column: x => x.author_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "review_revisions",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    review_id = table.Column<Guid>(type: "uuid", nullable: false),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    reviewer_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    from_overall = table.Column<int>(type: "integer", nullable: false),
                    to_overall = table.Column<int>(type: "integer", nullable: false),
                    reason = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_review_revisions", x => x.id);
                    table.CheckConstraint("ck_review_revisions_scores", "from_overall BETWEEN 1 AND 10 AND to_overall BETWEEN 1 AND 10");
                    table.ForeignKey(
                        name: "fk_review_revisions_reviews_review_id",
                        column: x => x.review_id,
                        principalTable: "reviews",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_decision_appeals_decided_by_user_id",
                table: "decision_appeals",
                column: "decided_by_user_id");

            migrationBuilder.CreateIndex(
                name: "ix_decision_appeals_filed_by_user_id",
                table: "decision_appeals",
                column: "filed_by_user_id");

            migrationBuilder.CreateIndex(
                name: "ix_decision_appeals_outcome_filed_at",
                table: "decision_appeals",
                columns: new[] { "outcome", "filed_at" });

            migrationBuilder.CreateIndex(
                name: "ix_decision_appeals_proposal_id",
                table: "decision_appeals",
                column: "proposal_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_review_responses_author_user_id",
                table: "review_responses",
                column: "author_user_id");

            migrationBuilder.CreateIndex(
                name: "ix_review_responses_call_id",
                table: "review_responses",
                column: "call_id");

            migrationBuilder.CreateIndex(
                name: "ix_review_responses_proposal_id",
                table: "review_responses",
                column: "proposal_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_review_revisions_proposal_id",
                table: "review_revisions",
                column: "proposal_id");

            migrationBuilder.CreateIndex(
                name: "ix_review_revisions_review_id_id",
                table: "review_revisions",
                columns: new[] { "review_id", "id" });

            migrationBuilder.AddForeignKey(
                name: "fk_reviews_calls_call_id",
                table: "reviews",
                column: "call_id",
                principalTable: "calls",
                principalColumn: "id",
                onDelete: ReferentialAction.Restrict);

            // The team's response and the reviewers' revisions are history: never edited or deleted.
            migrationBuilder.Sql(AppendOnlyTables.Protect("review_responses"));
            migrationBuilder.Sql(AppendOnlyTables.Protect("review_revisions"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(AppendOnlyTables.Unprotect("review_responses"));
            migrationBuilder.Sql(AppendOnlyTables.Unprotect("review_revisions"));

            migrationBuilder.DropForeignKey(
                name: "fk_reviews_calls_call_id",
                table: "reviews");

            migrationBuilder.DropTable(
                name: "decision_appeals");

            migrationBuilder.DropTable(
                name: "review_responses");

            migrationBuilder.DropTable(
                name: "review_revisions");

            migrationBuilder.DropColumn(
                name: "response_deadline",
                table: "calls");

            migrationBuilder.DropColumn(
                name: "response_opened_at",
                table: "calls");

            migrationBuilder.DropPrimaryKey(
                name: "pk_reviewer_collaborators",
                table: "reviewer_collaborators");

            migrationBuilder.DropIndex(
                name: "ix_reviewer_collaborators_normalized_email",
                table: "reviewer_collaborators");

            migrationBuilder.AddColumn<Guid>(
                name: "collaborator_user_id",
                table: "reviewer_collaborators",
                type: "uuid",
                nullable: true);

            // Only declarations that name an account can go back; the others have no account to name.
            migrationBuilder.Sql("""
                UPDATE reviewer_collaborators c SET collaborator_user_id = u.id
                FROM users u WHERE u.normalized_email = c.normalized_email;
                DELETE FROM reviewer_collaborators WHERE collaborator_user_id IS NULL;
                """);

            migrationBuilder.AlterColumn<Guid>(
                name: "collaborator_user_id",
                table: "reviewer_collaborators",
                type: "uuid",
                nullable: false,
                oldClrType: typeof(Guid),
                oldType: "uuid",
                oldNullable: true);

            migrationBuilder.DropColumn(
                name: "normalized_email",
                table: "reviewer_collaborators");

            migrationBuilder.DropColumn(
                name: "email",
                table: "reviewer_collaborators");

            migrationBuilder.AddPrimaryKey(
                name: "pk_reviewer_collaborators",
                table: "reviewer_collaborators",
                columns: new[] { "reviewer_user_id", "collaborator_user_id" });

            migrationBuilder.CreateIndex(
                name: "ix_reviewer_collaborators_collaborator_user_id",
                table: "reviewer_collaborators",
                column: "collaborator_user_id");

            migrationBuilder.AddForeignKey(
                name: "fk_reviewer_collaborators_users_collaborator_user_id",
                table: "reviewer_collaborators",
                column: "collaborator_user_id",
                principalTable: "users",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}

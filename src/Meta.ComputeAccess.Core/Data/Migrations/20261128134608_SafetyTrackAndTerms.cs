using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class SafetyTrackAndTerms : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "human_subjects_details",
                table: "proposals",
                type: "character varying(5000)",
                maxLength: 5000,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<bool>(
                name: "involves_human_subjects",
                table: "proposals",
                type: "boolean",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "award_condition_acceptances",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    key = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    title = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    text = table.Column<string>(type: "character varying(50000)", maxLength: 50000, nullable: false),
                    accepted_by_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    accepted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_award_condition_acceptances", x => x.id);
                    table.ForeignKey(
                        name: "fk_award_condition_acceptances_asp_net_users_accepted_by_user_id",
                        column: x => x.accepted_by_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_award_condition_acceptances_proposals_proposal_id",
                        column: x => x.proposal_id,
                        principalTable: "proposals",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "safety_decisions",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: false),
                    outcome = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    text = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    reasons = table.Column<int>(type: "integer", maxLength: 32, nullable: false),
                    decided_by_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    decided_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_safety_decisions", x => x.id);
                    table.ForeignKey(
                        name: "fk_safety_decisions_proposals_proposal_id",
                        column: x => x.proposal_id,
                        principalTable: "proposals",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_safety_decisions_users_decided_by_user_id",
                        column: x => x.decided_by_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "terms_documents",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    call_id = table.Column<Guid>(type: "uuid", nullable: true),
                    version = table.Column<int>(type: "integer", nullable: false),
                    text_markdown = table.Column<string>(type: "character varying(50000)", maxLength: 50000, nullable: false),
                    summary = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    published_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    published_by_user_id = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_terms_documents", x => x.id);
                    table.CheckConstraint("ck_terms_documents_call", "(kind = 'AwardTerms') = (call_id IS NOT NULL)");
                    table.CheckConstraint("ck_terms_documents_version", "version >= 1");
                    table.ForeignKey(
                        name: "fk_terms_documents_calls_call_id",
                        column: x => x.call_id,
                        principalTable: "calls",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_terms_documents_users_published_by_user_id",
                        column: x => x.published_by_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "terms_acceptances",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    document_id = table.Column<Guid>(type: "uuid", nullable: false),
                    accepted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_terms_acceptances", x => x.id);
                    table.ForeignKey(
                        name: "fk_terms_acceptances_terms_documents_document_id",
                        column: x => x.document_id,
                        principalTable: "terms_documents",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_terms_acceptances_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.InsertData(
                table: "roles",
                columns: new[] { "id", "concurrency_stamp", "name", "normalized_name" },
                values: new object[] { new Guid("0195a3f0-0000-7000-8000-000000000005"), "0195a3f0-0000-7000-8000-000000000005", "Safety", "SAFETY" });

            migrationBuilder.CreateIndex(
                name: "ix_award_condition_acceptances_accepted_by_user_id",
                table: "award_condition_acceptances",
                column: "accepted_by_user_id");

            migrationBuilder.CreateIndex(
                name: "ix_award_condition_acceptances_key",
                table: "award_condition_acceptances",
                column: "key");

            migrationBuilder.CreateIndex(
                name: "ix_award_condition_acceptances_proposal_id_key",
                table: "award_condition_acceptances",
                columns: new[] { "proposal_id", "key" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_safety_decisions_decided_by_user_id",
                table: "safety_decisions",
                column: "decided_by_user_id");

            migrationBuilder.CreateIndex(
                name: "ix_safety_decisions_proposal_id_id",
                table: "safety_decisions",
                columns: new[] { "proposal_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_terms_acceptances_document_id_accepted_at",
                table: "terms_acceptances",
                columns: new[] { "document_id", "accepted_at" });

            migrationBuilder.CreateIndex(
                name: "ix_terms_acceptances_user_id_document_id",
                table: "terms_acceptances",
                columns: new[] { "user_id", "document_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_terms_documents_call_id",
                table: "terms_documents",
                column: "call_id");

            migrationBuilder.CreateIndex(
                name: "ix_terms_documents_kind_call_id_version",
                table: "terms_documents",
                columns: new[] { "kind", "call_id", "version" },
                unique: true)
                .Annotation("Npgsql:NullsDistinct", false);

            migrationBuilder.CreateIndex(
                name: "ix_terms_documents_published_by_user_id",
                table: "terms_documents",
                column: "published_by_user_id");

            // Sign-offs, what PIs accepted with awards, published terms and their acceptances are history: never edited or deleted.
            migrationBuilder.Sql(AppendOnlyTables.Protect("safety_decisions"));
            migrationBuilder.Sql(AppendOnlyTables.Protect("award_condition_acceptances"));
            migrationBuilder.Sql(AppendOnlyTables.Protect("terms_documents"));
            migrationBuilder.Sql(AppendOnlyTables.Protect("terms_acceptances"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(AppendOnlyTables.Unprotect("safety_decisions"));
            migrationBuilder.Sql(AppendOnlyTables.Unprotect("award_condition_acceptances"));
            migrationBuilder.Sql(AppendOnlyTables.Unprotect("terms_documents"));
            migrationBuilder.Sql(AppendOnlyTables.Unprotect("terms_acceptances"));

            migrationBuilder.DropTable(
                name: "award_condition_acceptances");

            migrationBuilder.DropTable(
                name: "safety_decisions");

            migrationBuilder.DropTable(
                name: "terms_acceptances");

            migrationBuilder.DropTable(
                name: "terms_documents");

            migrationBuilder.DeleteData(
                table: "roles",
                keyColumn: "id",
                keyValue: new Guid("0195a3f0-0000-7000-8000-000000000005"));

            migrationBuilder.DropColumn(
                name: "human_subjects_details",
                table: "proposals");

            migrationBuilder.DropColumn(
                name: "involves_human_subjects",
                table: "proposals");
        }
    }
}

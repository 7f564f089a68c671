using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class ComplianceScreening : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:PostgresExtension:pg_trgm", ",,");

            migrationBuilder.AddColumn<List<string>>(
                name: "embargoed_countries",
                table: "calls",
                type: "text[]",
                nullable: false,
                defaultValueSql: "'{}'::text[]");

            migrationBuilder.AddColumn<List<string>>(
                name: "restricted_countries",
                table: "calls",
                type: "text[]",
                nullable: false,
                defaultValueSql: "'{}'::text[]");

            migrationBuilder.CreateTable(
                name: "compliance_hits",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    dedup_key = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    party = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    party_name = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    version_id = table.Column<Guid>(type: "uuid", nullable: true),
                    entry_ordinal = table.Column<int>(type: "integer", nullable: true),
                    list_key = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    entry_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    matched_name = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: true),
                    score = table.Column<int>(type: "integer", nullable: true),
                    country = table.Column<string>(type: "character varying(2)", maxLength: 2, nullable: true),
                    country_level = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    rule = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    found_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    resolved_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    resolved_by_user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    resolution = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_compliance_hits", x => x.id);
                    table.CheckConstraint("ck_compliance_hits_finding", "(kind = 'ListMatch' AND entry_id IS NOT NULL AND score IS NOT NULL) OR (kind = 'CountryRule' AND country IS NOT NULL AND country_level IS NOT NULL)");
                    table.CheckConstraint("ck_compliance_hits_score", "score IS NULL OR score BETWEEN 0 AND 100");
                    table.ForeignKey(
                        name: "fk_compliance_hits_asp_net_users_resolved_by_user_id",
                        column: x => x.resolved_by_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_compliance_hits_asp_net_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "country_rules",
                columns: table => new
                {
                    country = table.Column<string>(type: "character varying(2)", maxLength: 2, nullable: false),
                    level = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    changed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    changed_by_user_id = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_country_rules", x => x.country);
                    table.CheckConstraint("ck_country_rules_level", "level IN ('Restricted', 'Embargoed')");
                    table.ForeignKey(
                        name: "fk_country_rules_asp_net_users_changed_by_user_id",
                        column: x => x.changed_by_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "screening_list_versions",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    list_key = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    list_name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    number = table.Column<int>(type: "integer", nullable: false),
                    format = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    file_name = table.Column<string>(type: "character varying(260)", maxLength: 260, nullable: false),
                    sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    entry_count = table.Column<int>(type: "integer", nullable: false),
                    name_count = table.Column<int>(type: "integer", nullable: false),
                    imported_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    imported_by_user_id = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_screening_list_versions", x => x.id);
                    table.CheckConstraint("ck_screening_list_versions_number", "number >= 1");
                    table.ForeignKey(
                        name: "fk_screening_list_versions_users_imported_by_user_id",
                        column: x => x.imported_by_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "compliance_hit_links",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    hit_id = table.Column<Guid>(type: "uuid", nullable: false),
                    proposal_id = table.Column<Guid>(type: "uuid", nullable: true),
                    allocation_id = table.Column<Guid>(type: "uuid", nullable: true),
                    linked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_compliance_hit_links", x => x.id);
                    table.CheckConstraint("ck_compliance_hit_links_target", "(proposal_id IS NULL) <> (allocation_id IS NULL)");
                    table.ForeignKey(
                        name: "fk_compliance_hit_links_compliance_hits_hit_id",
                        column: x => x.hit_id,
                        principalTable: "compliance_hits",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "screening_list_entries",
                columns: table => new
                {
                    version_id = table.Column<Guid>(type: "uuid", nullable: false),
                    ordinal = table.Column<int>(type: "integer", nullable: false),
                    entry_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    name = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    alt_names = table.Column<List<string>>(type: "text[]", nullable: false),
                    countries = table.Column<List<string>>(type: "text[]", nullable: false),
                    source_list = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_screening_list_entries", x => new { x.version_id, x.ordinal });
                    table.ForeignKey(
                        name: "fk_screening_list_entries_screening_list_versions_version_id",
                        column: x => x.version_id,
                        principalTable: "screening_list_versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "screening_names",
                columns: table => new
                {
                    version_id = table.Column<Guid>(type: "uuid", nullable: false),
                    ordinal = table.Column<int>(type: "integer", nullable: false),
                    position = table.Column<int>(type: "integer", nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    normalized = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_screening_names", x => new { x.version_id, x.ordinal, x.position });
                    table.ForeignKey(
                        name: "fk_screening_names_screening_list_entries_version_id_ordinal",
                        columns: x => new { x.version_id, x.ordinal },
                        principalTable: "screening_list_entries",
                        principalColumns: new[] { "version_id", "ordinal" },
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.InsertData(
                table: "roles",
                columns: new[] { "id", "concurrency_stamp", "name", "normalized_name" },
                values: new object[] { new Guid("0195a3f0-0000-7000-8000-000000000004"), "0195a3f0-0000-7000-8000-000000000004", "Compliance", "COMPLIANCE" });

            migrationBuilder.CreateIndex(
                name: "ix_compliance_hit_links_allocation_id",
                table: "compliance_hit_links",
                column: "allocation_id");

            migrationBuilder.CreateIndex(
                name: "ix_compliance_hit_links_hit_id_proposal_id_allocation_id",
                table: "compliance_hit_links",
                columns: new[] { "hit_id", "proposal_id", "allocation_id" },
                unique: true)
                .Annotation("Npgsql:NullsDistinct", false);

            migrationBuilder.CreateIndex(
                name: "ix_compliance_hit_links_proposal_id",
                table: "compliance_hit_links",
                column: "proposal_id");

            migrationBuilder.CreateIndex(
                name: "ix_compliance_hits_dedup_key",
                table: "compliance_hits",
                column: "dedup_key",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_compliance_hits_resolved_by_user_id",
                table: "compliance_hits",
                column: "resolved_by_user_id");

            migrationBuilder.CreateIndex(
                name: "ix_compliance_hits_status_found_at",
                table: "compliance_hits",
                columns: new[] { "status", "found_at" });

            migrationBuilder.CreateIndex(
                name: "ix_compliance_hits_user_id",
                table: "compliance_hits",
                column: "user_id");

            migrationBuilder.CreateIndex(
                name: "ix_country_rules_changed_by_user_id",
                table: "country_rules",
                column: "changed_by_user_id");

            migrationBuilder.CreateIndex(
                name: "ix_screening_list_versions_imported_by_user_id",
                table: "screening_list_versions",
                column: "imported_by_user_id");

            migrationBuilder.CreateIndex(
                name: "ix_screening_list_versions_list_key_number",
                table: "screening_list_versions",
                columns: new[] { "list_key", "number" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_screening_names_normalized",
                table: "screening_names",
                column: "normalized")
                .Annotation("Npgsql:IndexMethod", "gin")
                .Annotation("Npgsql:IndexOperators", new[] { "gin_trgm_ops" });

            // Every imported version of a list, and its entries, are kept as imported.
            migrationBuilder.Sql(AppendOnlyTables.Protect("screening_list_versions"));
            migrationBuilder.Sql(AppendOnlyTables.Protect("screening_list_entries"));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(AppendOnlyTables.Unprotect("screening_list_entries"));
            migrationBuilder.Sql(AppendOnlyTables.Unprotect("screening_list_versions"));

            migrationBuilder.DropTable(
                name: "compliance_hit_links");

            migrationBuilder.DropTable(
                name: "country_rules");

            migrationBuilder.DropTable(
                name: "screening_names");

            migrationBuilder.DropTable(
                name: "compliance_hits");

            migrationBuilder.DropTable(
                name: "screening_list_entries");

            migrationBuilder.DropTable(
                name: "screening_list_versions");

            migrationBuilder.DeleteData(
                table: "roles",
                keyColumn: "id",
                keyValue: new Guid("0195a3f0-0000-7000-8000-000000000004"));

            migrationBuilder.DropColumn(
                name: "embargoed_countries",
                table: "calls");

            migrationBuilder.DropColumn(
                name: "restricted_countries",
                table: "calls");

            migrationBuilder.AlterDatabase()
                .OldAnnotation("Npgsql:PostgresExtension:pg_trgm", ",,");
        }
    }
}

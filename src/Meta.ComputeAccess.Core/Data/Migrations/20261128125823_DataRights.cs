using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class DataRights : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateSequence(
                name: "former_user_numbers");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "closed_at",
                table: "users",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "retention_runs",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    ran_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    drafts_untouched_since = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    calls_closed_before = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    drafts_removed = table.Column<int>(type: "integer", nullable: false),
                    attachments_removed = table.Column<int>(type: "integer", nullable: false),
                    bytes_removed = table.Column<long>(type: "bigint", nullable: false),
                    detail = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_retention_runs", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_retention_runs_ran_at",
                table: "retention_runs",
                column: "ran_at");

            migrationBuilder.Sql(Meta.ComputeAccess.Privacy.PrivacySql.MigrationUp);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(Meta.ComputeAccess.Privacy.PrivacySql.MigrationDown);

            migrationBuilder.DropTable(
                name: "retention_runs");

            migrationBuilder.DropColumn(
                name: "closed_at",
                table: "users");

            migrationBuilder.DropSequence(
                name: "former_user_numbers");
        }
    }
}

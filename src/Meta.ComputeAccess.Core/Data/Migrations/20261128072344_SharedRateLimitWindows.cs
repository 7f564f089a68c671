using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class SharedRateLimitWindows : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "rate_limit_windows",
                columns: table => new
                {
                    client_key = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    ends_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    count = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_rate_limit_windows", x => new { x.client_key, x.ends_at });
                });

            migrationBuilder.CreateIndex(
                name: "ix_rate_limit_windows_ends_at",
                table: "rate_limit_windows",
                column: "ends_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "rate_limit_windows");
        }
    }
}

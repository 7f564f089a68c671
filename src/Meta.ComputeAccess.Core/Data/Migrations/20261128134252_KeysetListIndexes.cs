using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class KeysetListIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_proposals_call_id_status_submitted_at_id",
                table: "proposals");

            migrationBuilder.DropIndex(
                name: "ix_proposals_call_id_total_requested_hours_id",
                table: "proposals");

            migrationBuilder.CreateIndex(
                name: "ix_proposals_call_id_status_submitted_at_id",
                table: "proposals",
                columns: new[] { "call_id", "status", "submitted_at", "id" })
                .Annotation("Npgsql:IndexInclude", new[] { "title", "pi_user_id", "research_field", "decision_released_at" });

            migrationBuilder.CreateIndex(
                name: "ix_proposals_call_id_total_requested_hours_id",
                table: "proposals",
                columns: new[] { "call_id", "total_requested_hours", "id" })
                .Annotation("Npgsql:IndexInclude", new[] { "status", "title", "pi_user_id", "research_field", "submitted_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_proposals_call_id_status_submitted_at_id",
                table: "proposals");

            migrationBuilder.DropIndex(
                name: "ix_proposals_call_id_total_requested_hours_id",
                table: "proposals");

            migrationBuilder.CreateIndex(
                name: "ix_proposals_call_id_status_submitted_at_id",
                table: "proposals",
                columns: new[] { "call_id", "status", "submitted_at", "id" })
                .Annotation("Npgsql:IndexInclude", new[] { "title", "pi_user_id", "research_field" });

            migrationBuilder.CreateIndex(
                name: "ix_proposals_call_id_total_requested_hours_id",
                table: "proposals",
                columns: new[] { "call_id", "total_requested_hours", "id" },
                descending: new[] { false, true, false })
                .Annotation("Npgsql:IndexInclude", new[] { "status", "title", "pi_user_id", "research_field", "submitted_at" });
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class ListSortIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<decimal>(
                name: "total_requested_hours",
                table: "proposals",
                type: "numeric(16,2)",
                precision: 16,
                scale: 2,
                nullable: false,
                defaultValue: 0m);

            // Existing proposals get the sum of their requests; from now on Proposal keeps it when requests change.
            migrationBuilder.Sql("""
                UPDATE proposals p SET total_requested_hours = r.total
                FROM (SELECT proposal_id, sum(requested_hours) AS total FROM proposal_cluster_requests GROUP BY proposal_id) r
                WHERE r.proposal_id = p.id;
                """);

            migrationBuilder.CreateIndex(
                name: "ix_proposals_call_id_title_id",
                table: "proposals",
                columns: new[] { "call_id", "title", "id" })
                .Annotation("Npgsql:IndexInclude", new[] { "status", "pi_user_id", "research_field", "submitted_at" });

            migrationBuilder.CreateIndex(
                name: "ix_proposals_call_id_total_requested_hours_id",
                table: "proposals",
                columns: new[] { "call_id", "total_requested_hours", "id" },
                descending: new[] { false, true, false })
                .Annotation("Npgsql:IndexInclude", new[] { "status", "title", "pi_user_id", "research_field", "submitted_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_proposals_call_id_title_id",
                table: "proposals");

            migrationBuilder.DropIndex(
                name: "ix_proposals_call_id_total_requested_hours_id",
                table: "proposals");

            migrationBuilder.DropColumn(
                name: "total_requested_hours",
                table: "proposals");
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class PageIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_proposals_call_id_status",
                table: "proposals");

            migrationBuilder.DropIndex(
                name: "ix_proposals_call_id_submitted_at",
                table: "proposals");

            migrationBuilder.CreateIndex(
                name: "ix_proposals_call_id_status_submitted_at_id",
                table: "proposals",
                columns: new[] { "call_id", "status", "submitted_at", "id" })
                .Annotation("Npgsql:IndexInclude", new[] { "title", "pi_user_id", "research_field" });

            migrationBuilder.CreateIndex(
                name: "ix_proposals_call_id_submitted_at_id",
                table: "proposals",
                columns: new[] { "call_id", "submitted_at", "id" })
                .Annotation("Npgsql:IndexInclude", new[] { "status", "title", "pi_user_id", "research_field" });

            migrationBuilder.CreateIndex(
                name: "ix_proposal_members_proposal_id",
                table: "proposal_members",
                column: "proposal_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_proposals_call_id_status_submitted_at_id",
                table: "proposals");

            migrationBuilder.DropIndex(
                name: "ix_proposals_call_id_submitted_at_id",
                table: "proposals");

            migrationBuilder.DropIndex(
                name: "ix_proposal_members_proposal_id",
                table: "proposal_members");

            migrationBuilder.CreateIndex(
                name: "ix_proposals_call_id_status",
                table: "proposals",
                columns: new[] { "call_id", "status" });

            migrationBuilder.CreateIndex(
                name: "ix_proposals_call_id_submitted_at",
                table: "proposals",
                columns: new[] { "call_id", "submitted_at" });
        }
    }
}

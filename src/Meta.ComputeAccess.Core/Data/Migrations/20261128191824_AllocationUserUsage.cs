using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <summary>Each user's running total of jobs and GPU-hours per allocation and cluster, filled from the jobs charged so far.</summary>
    public partial class AllocationUserUsage : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "allocation_user_usage",
                columns: table => new
                {
                    allocation_id = table.Column<Guid>(type: "uuid", nullable: false),
                    cluster_id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    jobs = table.Column<long>(type: "bigint", nullable: false),
                    gpu_hours = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_allocation_user_usage", x => new { x.allocation_id, x.cluster_id, x.user_name });
                    table.ForeignKey(
                        name: "fk_allocation_user_usage_allocations_allocation_id",
                        column: x => x.allocation_id,
                        principalTable: "allocations",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            // The totals of what was charged so far, from the jobs themselves; from now on UsageCharges keeps them.
            migrationBuilder.Sql("""
                INSERT INTO allocation_user_usage (allocation_id, cluster_id, user_name, jobs, gpu_hours)
                SELECT allocation_id, cluster_id, user_name, count(*), sum(gpu_hours)
                FROM usage_records WHERE allocation_id IS NOT NULL
                GROUP BY allocation_id, cluster_id, user_name;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "allocation_user_usage");
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class PartitionUsageByMonth : Migration
    {
        /// <summary>
        /// Makes <c>usage_records</c> a table partitioned by month of <c>ended_at</c> (UTC months): one partition for each month
        /// that has jobs, for the current month and the next three, and a default partition for anything else; copies the rows
        /// over; builds the indexes once, after the copy. <c>usage_records_partition(month)</c> adds a month's partition, moving
        /// the jobs of that month out of the default partition (the recurring job UsagePartitionsJob calls it ahead of time).
        /// EF's model sees one table, as before.
        /// </summary>
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                ALTER TABLE usage_records RENAME TO usage_records_unpartitioned;
                DROP INDEX ix_usage_records_cluster_id_job_id_submitted_at;
                DROP INDEX ix_usage_records_allocation_id_ended_at;
                CREATE TABLE usage_records (LIKE usage_records_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (ended_at);
                CREATE TABLE usage_records_default PARTITION OF usage_records DEFAULT;
                """);
            migrationBuilder.Sql(PartitionFunction);
            migrationBuilder.Sql("""
                SELECT usage_records_partition(m) FROM (
                    SELECT DISTINCT date_trunc('month', ended_at AT TIME ZONE 'UTC')::date AS m FROM usage_records_unpartitioned
                    UNION
                    SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => n))::date FROM generate_series(0, 3) AS n) AS months
                ORDER BY m;
                INSERT INTO usage_records SELECT * FROM usage_records_unpartitioned;
                DROP TABLE usage_records_unpartitioned;
                CREATE UNIQUE INDEX ix_usage_records_cluster_id_job_id_submitted_at_ended_at ON usage_records (cluster_id, job_id, submitted_at, ended_at) NULLS NOT DISTINCT;
                CREATE INDEX ix_usage_records_allocation_id_ended_at ON usage_records (allocation_id, ended_at);
                CREATE INDEX ix_usage_records_without_submit_time ON usage_records (cluster_id, job_id) WHERE submitted_at IS NULL;
                ANALYZE usage_records;
                """);
        }

        /// <summary>
        /// Adds the partition of the UTC month holding <c>month</c> unless it exists (then false). Jobs of that month that waited
        /// in the default partition move into it. The parent is locked meanwhile (a moment when the default partition is empty,
        /// which the job keeps it by creating months ahead), so an ingest waits rather than racing the move.
        /// </summary>
        internal const string PartitionFunction = """
            CREATE FUNCTION usage_records_partition(month date) RETURNS boolean LANGUAGE plpgsql AS $fn$
            DECLARE
                first_day date := date_trunc('month', month)::date;
                lo timestamptz := first_day::timestamp AT TIME ZONE 'UTC';
                hi timestamptz := (first_day + interval '1 month')::timestamp AT TIME ZONE 'UTC';
                part text := 'usage_records_' || to_char(first_day, '"y"YYYY"m"MM');
            BEGIN
                IF to_regclass(part) IS NOT NULL THEN
                    RETURN false;
                END IF;
                LOCK TABLE usage_records IN ACCESS EXCLUSIVE MODE;
                CREATE TEMP TABLE usage_records_moving (LIKE usage_records);
                WITH moved AS (DELETE FROM usage_records_default WHERE ended_at >= lo AND ended_at < hi RETURNING *)
                INSERT INTO usage_records_moving SELECT * FROM moved;
                EXECUTE format('CREATE TABLE %I PARTITION OF usage_records FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
                INSERT INTO usage_records SELECT * FROM usage_records_moving;
                DROP TABLE usage_records_moving;
                RETURN true;
            END
            $fn$;
            """;

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP FUNCTION usage_records_partition(date);
                ALTER TABLE usage_records RENAME TO usage_records_partitioned;
                DROP INDEX ix_usage_records_cluster_id_job_id_submitted_at_ended_at;
                DROP INDEX ix_usage_records_allocation_id_ended_at;
                DROP INDEX ix_usage_records_without_submit_time;
                CREATE TABLE usage_records (LIKE usage_records_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
                INSERT INTO usage_records SELECT * FROM usage_records_partitioned;
                DROP TABLE usage_records_partitioned;
                CREATE UNIQUE INDEX ix_usage_records_cluster_id_job_id_submitted_at ON usage_records (cluster_id, job_id, submitted_at) NULLS NOT DISTINCT;
                CREATE INDEX ix_usage_records_allocation_id_ended_at ON usage_records (allocation_id, ended_at);
                """);
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Meta.ComputeAccess.Data.Migrations
{
    /// <inheritdoc />
    public partial class PartitionUnmatchedByMonth : Migration
    {
        /// <summary>
        /// Makes <c>unmatched_usage</c> a table partitioned by month of the job's end (UTC months), as <c>usage_records</c> is:
        /// it gains <c>ended_at</c> (the end of the job's earliest record, or when the row was received if no record matches),
        /// its id comes from a sequence the column owns (PostgreSQL allows no identity column on a partitioned table), its
        /// primary key becomes (id, ended_at) and its unique key the job's as usage_records has it, (cluster, job id, submit
        /// time, end). One function, <c>usage_partition(table, month)</c>, replaces <c>usage_records_partition(month)</c> and
        /// makes either table's month. Partitions for each month that has rows, the current month and the next three; the
        /// indexes are built once, after the copy. EF's model sees one table keyed by id.
        /// </summary>
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION usage_records_partition(date);");
            migrationBuilder.Sql(PartitionFunction);
            migrationBuilder.Sql("""
                ALTER TABLE unmatched_usage RENAME TO unmatched_usage_unpartitioned;
                ALTER SEQUENCE unmatched_usage_id_seq RENAME TO unmatched_usage_unpartitioned_id_seq;
                ALTER TABLE unmatched_usage_unpartitioned DROP CONSTRAINT pk_unmatched_usage;
                DROP INDEX ix_unmatched_usage_cluster_id_job_id_submitted_at;
                DROP INDEX ix_unmatched_usage_status_cluster_id_account;
                ALTER TABLE unmatched_usage_unpartitioned ADD COLUMN ended_at timestamptz;
                -- One index probe per usage_records partition on (cluster_id, job_id) for each queued job.
                UPDATE unmatched_usage_unpartitioned u SET ended_at = coalesce(
                    (SELECT min(r.ended_at) FROM usage_records r
                     WHERE r.cluster_id = u.cluster_id AND r.job_id = u.job_id AND r.submitted_at IS NOT DISTINCT FROM u.submitted_at),
                    u.received_at);
                ALTER TABLE unmatched_usage_unpartitioned ALTER COLUMN ended_at SET NOT NULL;
                CREATE TABLE unmatched_usage (LIKE unmatched_usage_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (ended_at);
                -- The ids go on where the identity left off (never one handed out before, not even by a rolled-back insert).
                CREATE SEQUENCE unmatched_usage_id_seq OWNED BY unmatched_usage.id;
                SELECT setval('unmatched_usage_id_seq', nextval('unmatched_usage_unpartitioned_id_seq'), false);
                ALTER TABLE unmatched_usage ALTER COLUMN id SET DEFAULT nextval('unmatched_usage_id_seq');
                CREATE TABLE unmatched_usage_default PARTITION OF unmatched_usage DEFAULT;
                SELECT usage_partition('unmatched_usage', m) FROM (
                    SELECT DISTINCT date_trunc('month', ended_at AT TIME ZONE 'UTC')::date AS m FROM unmatched_usage_unpartitioned
                    UNION
                    SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => n))::date FROM generate_series(0, 3) AS n) AS months
                ORDER BY m;
                INSERT INTO unmatched_usage SELECT * FROM unmatched_usage_unpartitioned;
                DROP TABLE unmatched_usage_unpartitioned;
                ALTER TABLE unmatched_usage ADD CONSTRAINT pk_unmatched_usage PRIMARY KEY (id, ended_at);
                CREATE UNIQUE INDEX ix_unmatched_usage_cluster_id_job_id_submitted_at_ended_at ON unmatched_usage (cluster_id, job_id, submitted_at, ended_at) NULLS NOT DISTINCT;
                CREATE INDEX ix_unmatched_usage_status_cluster_id_account ON unmatched_usage (status, cluster_id, account);
                ANALYZE unmatched_usage;
                """);
        }

        /// <summary>
        /// Adds the partition of the UTC month holding <c>month</c> to <c>tbl</c> (<c>usage_records</c> or
        /// <c>unmatched_usage</c>) unless it exists (then false). Rows of that month that waited in the table's default
        /// partition move into it. The table is locked meanwhile (a moment when the default partition is empty, which the
        /// job keeps it by creating months ahead), so an ingest waits rather than racing the move; a caller that waited for
        /// the lock while another made the month finds it made.
        /// </summary>
        internal const string PartitionFunction = """
            CREATE FUNCTION usage_partition(tbl text, month date) RETURNS boolean LANGUAGE plpgsql AS $fn$
            DECLARE
                first_day date := date_trunc('month', month)::date;
                lo timestamptz := first_day::timestamp AT TIME ZONE 'UTC';
                hi timestamptz := (first_day + interval '1 month')::timestamp AT TIME ZONE 'UTC';
                part text := tbl || '_' || to_char(first_day, '"y"YYYY"m"MM');
            BEGIN
                IF tbl IS NULL OR tbl NOT IN ('usage_records', 'unmatched_usage') THEN
                    RAISE EXCEPTION 'usage_partition makes months of usage_records or unmatched_usage, not of %', tbl;
                END IF;
                IF to_regclass(part) IS NOT NULL THEN
                    RETURN false;
                END IF;
                EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', tbl);
                IF to_regclass(part) IS NOT NULL THEN
                    RETURN false;
                END IF;
                EXECUTE format('CREATE TEMP TABLE usage_partition_moving (LIKE %I)', tbl);
                EXECUTE format('WITH moved AS (DELETE FROM %I WHERE ended_at >= $1 AND ended_at < $2 RETURNING *) INSERT INTO usage_partition_moving SELECT * FROM moved',
                    tbl || '_default') USING lo, hi;
                EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, tbl, lo, hi);
                EXECUTE format('INSERT INTO %I SELECT * FROM usage_partition_moving', tbl);
                DROP TABLE usage_partition_moving;
                RETURN true;
            END
            $fn$;
            """;

        /// <summary>
        /// Back to one table keyed by (cluster, job id, submit time) with an identity id. Of the reports of one job that an End
        /// edited by hand queued, the first (lowest id) stays, as the old key kept it.
        /// </summary>
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION usage_partition(text, date);");
            migrationBuilder.Sql(PartitionUsageByMonth.PartitionFunction);
            migrationBuilder.Sql("""
                ALTER TABLE unmatched_usage RENAME TO unmatched_usage_partitioned;
                ALTER SEQUENCE unmatched_usage_id_seq RENAME TO unmatched_usage_partitioned_id_seq;
                ALTER TABLE unmatched_usage_partitioned DROP CONSTRAINT pk_unmatched_usage;
                DROP INDEX ix_unmatched_usage_cluster_id_job_id_submitted_at_ended_at;
                DROP INDEX ix_unmatched_usage_status_cluster_id_account;
                CREATE TABLE unmatched_usage (LIKE unmatched_usage_partitioned INCLUDING CONSTRAINTS);
                ALTER TABLE unmatched_usage DROP COLUMN ended_at;
                INSERT INTO unmatched_usage (id, cluster_id, job_id, submitted_at, account, gpu_hours, received_at, status, reason, allocation_id, resolved_by, resolved_at, resolution)
                SELECT DISTINCT ON (cluster_id, job_id, submitted_at)
                       id, cluster_id, job_id, submitted_at, account, gpu_hours, received_at, status, reason, allocation_id, resolved_by, resolved_at, resolution
                FROM unmatched_usage_partitioned
                ORDER BY cluster_id, job_id, submitted_at, id;
                ALTER TABLE unmatched_usage ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;
                SELECT setval(pg_get_serial_sequence('unmatched_usage', 'id'), nextval('unmatched_usage_partitioned_id_seq'), false);
                DROP TABLE unmatched_usage_partitioned;
                ALTER TABLE unmatched_usage ADD CONSTRAINT pk_unmatched_usage PRIMARY KEY (id);
                CREATE UNIQUE INDEX ix_unmatched_usage_cluster_id_job_id_submitted_at ON unmatched_usage (cluster_id, job_id, submitted_at) NULLS NOT DISTINCT;
                CREATE INDEX ix_unmatched_usage_status_cluster_id_account ON unmatched_usage (status, cluster_id, account);
                """);
        }
    }
}

using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class StoredUsageRecordConfiguration : IEntityTypeConfiguration<StoredUsageRecord>
{
    public void Configure(EntityTypeBuilder<StoredUsageRecord> builder)
    {
        builder.ToTable("usage_records");
        // A job is charged once: the key is the cluster, Slurm's job id, compared byte-wise ("C"), which keeps the
        // key's B-tree cheap to insert into, and the submit time, which tells apart jobs that share a reused id. The
        // submit time is null when the cluster did not send one, so the key is a unique index that counts nulls as
        // equal (PostgreSQL 15) rather than a primary key, which may hold no null; there is no surrogate id to index
        // as well. Rows are only ever written by SQL (COPY), so EF sees the table as keyless.
        builder.HasNoKey();
        // The table is partitioned by month of ended_at (migration PartitionUsageByMonth, partitions made ahead by
        // UsagePartitionsJob), and a unique index on a partitioned table must hold the partition key: the key is the job
        // and its end, which a job sent again carries unchanged (docs/decisions/usage-records-partitioned-by-month.md).
        builder.HasIndex(u => new { u.ClusterId, u.JobId, u.SubmittedAt, u.EndedAt }).IsUnique().AreNullsDistinct(false);
        // Jobs recorded without a submit time (older clients) follow an older matching rule; this small index tells
        // cheaply whether a cluster has any.
        builder.HasIndex(u => new { u.ClusterId, u.JobId }).HasFilter("submitted_at IS NULL").HasDatabaseName("ix_usage_records_without_submit_time");
        builder.Property(u => u.JobId).HasMaxLength(64).UseCollation("C").IsRequired();
        builder.Property(u => u.Account).HasMaxLength(128).IsRequired();
        builder.Property(u => u.UserName).HasMaxLength(128).IsRequired();
        builder.Property(u => u.State).HasMaxLength(32).IsRequired();
        builder.Property(u => u.GpuHours).HasPrecision(18, 6);
        builder.Property(u => u.ChargedHours).HasPrecision(18, 6);
        builder.HasIndex(u => new { u.AllocationId, u.EndedAt });
        // No foreign keys on this high-volume table: a per-row key check costs more than the insert itself
        // (docs/decisions/usage-ingest-no-foreign-keys-daily-ledger.md). The ingest writes the token's cluster id.
    }
}

internal sealed class UnmatchedUsageConfiguration : IEntityTypeConfiguration<UnmatchedUsage>
{
    public void Configure(EntityTypeBuilder<UnmatchedUsage> builder)
    {
        builder.ToTable("unmatched_usage");
        // Partitioned by month of ended_at, as usage_records (migration PartitionUnmatchedByMonth): PostgreSQL allows no
        // identity column on a partitioned table, so the id comes from a sequence the column owns, and the database's
        // primary key is (id, ended_at), as a partitioned table's must hold the partition key. EF sees one table keyed by id.
        builder.Property(u => u.Id).HasDefaultValueSql("nextval('unmatched_usage_id_seq')").ValueGeneratedOnAdd();
        builder.Property(u => u.JobId).HasMaxLength(64).UseCollation("C").IsRequired();
        builder.Property(u => u.Account).HasMaxLength(128).IsRequired();
        builder.Property(u => u.GpuHours).HasPrecision(18, 6);
        builder.Property(u => u.Resolution).HasMaxLength(500);
        builder.Property(u => u.Reason).HasMaxLength(32);
        // The job's identity as usage_records keys it (an End edited by hand makes another report, queued too).
        builder.HasIndex(u => new { u.ClusterId, u.JobId, u.SubmittedAt, u.EndedAt }).IsUnique().AreNullsDistinct(false);
        builder.HasIndex(u => new { u.Status, u.ClusterId, u.Account });
        // No foreign key to usage_records, for the same reason: both are written by the same ingest.
    }
}

internal sealed class ClusterTokenConfiguration : IEntityTypeConfiguration<ClusterToken>
{
    public void Configure(EntityTypeBuilder<ClusterToken> builder)
    {
        builder.ToTable("cluster_tokens");
        builder.Property(t => t.Name).HasMaxLength(100).IsRequired();
        builder.Property(t => t.Prefix).HasMaxLength(16).IsRequired();
        builder.Property(t => t.SecretHash).HasMaxLength(32).IsRequired();
        builder.HasIndex(t => t.SecretHash).IsUnique();
        builder.HasIndex(t => t.ClusterId);
        builder.Ignore(t => t.IsRevoked);
        builder.HasOne<Cluster>().WithMany().HasForeignKey(t => t.ClusterId).OnDelete(DeleteBehavior.Restrict);
    }
}

using Meta.ComputeAccess.Audit;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.ToTable("audit_entries");
        builder.Property(a => a.Id).UseIdentityAlwaysColumn();
        builder.Property(a => a.Action).HasMaxLength(64).IsRequired();
        builder.Property(a => a.SubjectType).HasMaxLength(64).IsRequired();
        builder.Property(a => a.SubjectId).HasMaxLength(64).IsRequired();
        builder.Property(a => a.Summary).HasMaxLength(AuditEntry.MaxSummaryLength).IsRequired();
        builder.HasIndex(a => a.OccurredAt);
        builder.HasIndex(a => new { a.SubjectType, a.SubjectId });
        builder.HasIndex(a => a.ActorUserId);
    }
}

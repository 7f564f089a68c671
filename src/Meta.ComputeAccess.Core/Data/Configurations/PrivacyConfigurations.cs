using Meta.ComputeAccess.Privacy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class RetentionRunConfiguration : IEntityTypeConfiguration<RetentionRun>
{
    public void Configure(EntityTypeBuilder<RetentionRun> builder)
    {
        builder.ToTable("retention_runs");
        builder.Property(r => r.Id).UseIdentityAlwaysColumn();
        builder.Property(r => r.Detail).IsRequired();
        builder.HasIndex(r => r.RanAt);
    }
}

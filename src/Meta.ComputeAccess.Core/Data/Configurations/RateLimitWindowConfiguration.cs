using Meta.ComputeAccess.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class RateLimitWindowConfiguration : IEntityTypeConfiguration<RateLimitWindow>
{
    public void Configure(EntityTypeBuilder<RateLimitWindow> builder)
    {
        builder.ToTable("rate_limit_windows");
        builder.HasKey(w => new { w.ClientKey, w.EndsAt });
        builder.Property(w => w.ClientKey).HasMaxLength(RateLimitWindow.KeyMaxLength);
        // The purge job deletes ended windows by this index.
        builder.HasIndex(w => w.EndsAt);
    }
}

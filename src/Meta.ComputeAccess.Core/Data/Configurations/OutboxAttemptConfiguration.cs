using Meta.ComputeAccess.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class OutboxAttemptConfiguration : IEntityTypeConfiguration<OutboxAttempt>
{
    public void Configure(EntityTypeBuilder<OutboxAttempt> builder)
    {
        builder.ToTable("outbox_attempts");
        builder.Property(a => a.Id).UseIdentityAlwaysColumn();
        builder.Property(a => a.Error).HasMaxLength(500);
        builder.HasIndex(a => new { a.MessageId, a.AttemptedAt });
    }
}

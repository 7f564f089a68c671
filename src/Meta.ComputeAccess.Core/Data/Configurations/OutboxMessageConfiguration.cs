using Meta.ComputeAccess.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<OutboxMessage>
{
    public void Configure(EntityTypeBuilder<OutboxMessage> builder)
    {
        builder.ToTable("outbox_messages");
        builder.Property(m => m.Kind).HasMaxLength(64).IsRequired();
        builder.Property(m => m.ToAddress).HasMaxLength(320).IsRequired();
        builder.Property(m => m.Subject).HasMaxLength(300).IsRequired();
        builder.Property(m => m.LastError).HasMaxLength(500);
        builder.Property(m => m.UnsubscribeUrl).HasMaxLength(1000);
        builder.HasMany(m => m.AttemptHistory).WithOne().HasForeignKey(a => a.MessageId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(m => m.AttemptHistory).UsePropertyAccessMode(PropertyAccessMode.Field);
        // The delivery job's claim query scans only due pending rows.
        builder.HasIndex(m => new { m.Status, m.NextAttemptAt });
        builder.HasIndex(m => m.RecipientUserId);
    }
}

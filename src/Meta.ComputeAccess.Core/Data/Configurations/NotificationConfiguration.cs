using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class NotificationConfiguration : IEntityTypeConfiguration<Notification>
{
    public void Configure(EntityTypeBuilder<Notification> builder)
    {
        builder.ToTable("notifications");
        builder.Property(n => n.Kind).HasMaxLength(64).IsRequired();
        builder.Property(n => n.Title).HasMaxLength(300).IsRequired();
        builder.Property(n => n.Summary).HasMaxLength(2000).IsRequired();
        builder.Property(n => n.Link).HasMaxLength(1000);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(n => n.UserId).OnDelete(DeleteBehavior.Cascade);
        // The notifications page: one user's rows, newest first.
        builder.HasIndex(n => new { n.UserId, n.CreatedAt }, "ix_notifications_user_id_created_at").HasDatabaseName("ix_notifications_user_id_created_at").IsDescending(false, true);
        // The bell: counts one user's unread rows from a small partial index.
        builder.HasIndex(n => n.UserId, "ix_notifications_unread").HasDatabaseName("ix_notifications_unread").HasFilter("read_at IS NULL");
        // The digest job: only rows still waiting for a digest.
        builder.HasIndex(n => new { n.UserId, n.CreatedAt }, "ix_notifications_digest_pending").HasDatabaseName("ix_notifications_digest_pending").HasFilter("delivery = 'Digest' AND digested_at IS NULL");
    }
}

internal sealed class NotificationPreferenceConfiguration : IEntityTypeConfiguration<NotificationPreference>
{
    public void Configure(EntityTypeBuilder<NotificationPreference> builder)
    {
        builder.ToTable("notification_preferences");
        builder.HasKey(p => new { p.UserId, p.Kind });
        builder.Property(p => p.Kind).HasMaxLength(64);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(p => p.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class NotificationDigestConfiguration : IEntityTypeConfiguration<NotificationDigest>
{
    public void Configure(EntityTypeBuilder<NotificationDigest> builder)
    {
        builder.ToTable("notification_digests");
        builder.HasKey(d => new { d.UserId, d.Day });
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(d => d.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

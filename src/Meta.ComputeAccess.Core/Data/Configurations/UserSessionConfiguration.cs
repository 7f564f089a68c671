using Meta.ComputeAccess.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class UserSessionConfiguration : IEntityTypeConfiguration<UserSession>
{
    public void Configure(EntityTypeBuilder<UserSession> builder)
    {
        builder.ToTable("user_sessions");
        builder.Property(s => s.Id).ValueGeneratedNever();
        builder.Property(s => s.UserAgent).HasMaxLength(SignInEvent.UserAgentMaxLength);
        // A removed account takes its sessions with it.
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
        // The security page (one user's open sessions) and "sign out everywhere".
        builder.HasIndex(s => s.UserId).HasFilter("ended_at IS NULL");
        // The purge job.
        builder.HasIndex(s => s.StartedAt);
    }
}

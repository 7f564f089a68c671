using Meta.ComputeAccess.Clusters;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class ClusterConfiguration : IEntityTypeConfiguration<Cluster>
{
    public void Configure(EntityTypeBuilder<Cluster> builder)
    {
        builder.ToTable("clusters", t =>
        {
            t.HasCheckConstraint("ck_clusters_nodes_positive", "nodes > 0");
            t.HasCheckConstraint("ck_clusters_accelerators_positive", "accelerators_per_node > 0");
        });
        builder.Property(c => c.Name).HasMaxLength(100).IsRequired();
        builder.Property(c => c.Slug).HasMaxLength(40).IsRequired();
        builder.Property(c => c.AcceleratorModel).HasMaxLength(100).IsRequired();
        builder.Property(c => c.SlurmClusterName).HasMaxLength(64).IsRequired();
        builder.Property(c => c.TimeZoneId).HasMaxLength(64).IsRequired().HasDefaultValue("UTC");
        builder.HasIndex(c => c.Slug).IsUnique();
        builder.HasIndex(c => c.Name).IsUnique();
    }
}

internal sealed class ChargePolicyConfiguration : IEntityTypeConfiguration<ChargePolicy>
{
    public void Configure(EntityTypeBuilder<ChargePolicy> builder)
    {
        // Append-only (a trigger, from the migration): a change of rates is a new version, never an edit.
        builder.ToTable("charge_policies", t => t.HasCheckConstraint("ck_charge_policies_version_positive", "version > 0"));
        builder.Property(p => p.RatesText).HasMaxLength(4000).IsRequired();
        builder.Property(p => p.MultipliersText).HasMaxLength(8000).IsRequired();
        builder.Property(p => p.Note).HasMaxLength(500).IsRequired();
        builder.HasIndex(p => new { p.ClusterId, p.Version }).IsUnique();
        builder.HasIndex(p => new { p.ClusterId, p.EffectiveFrom }).IsUnique();
        builder.HasOne<Cluster>().WithMany().HasForeignKey(p => p.ClusterId).OnDelete(DeleteBehavior.Restrict);
        builder.Ignore(p => p.Rates);
        builder.Ignore(p => p.Multipliers);
        builder.Ignore(p => p.Native);
    }
}

internal sealed class ClusterLoginConfiguration : IEntityTypeConfiguration<ClusterLogin>
{
    public void Configure(EntityTypeBuilder<ClusterLogin> builder)
    {
        builder.ToTable("cluster_logins");
        builder.HasKey(l => new { l.UserId, l.ClusterId });
        builder.Property(l => l.Login).HasMaxLength(ClusterLogin.MaxLength).UseCollation("C").IsRequired();
        // One person per login on a cluster, proposed or confirmed.
        builder.HasIndex(l => new { l.ClusterId, l.Login }).IsUnique();
        builder.HasOne<Identity.PortalUser>().WithMany().HasForeignKey(l => l.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Cluster>().WithMany().HasForeignKey(l => l.ClusterId).OnDelete(DeleteBehavior.Restrict);
    }
}

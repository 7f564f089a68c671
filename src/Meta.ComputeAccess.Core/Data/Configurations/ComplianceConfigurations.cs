using Meta.ComputeAccess.Compliance;
using Meta.ComputeAccess.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class ScreeningListVersionConfiguration : IEntityTypeConfiguration<ScreeningListVersion>
{
    public void Configure(EntityTypeBuilder<ScreeningListVersion> builder)
    {
        builder.ToTable("screening_list_versions", t => t.HasCheckConstraint("ck_screening_list_versions_number", "number >= 1"));
        builder.Property(v => v.Id).ValueGeneratedNever();
        builder.Property(v => v.ListKey).HasMaxLength(ScreeningListVersion.MaxListNameLength).IsRequired();
        builder.Property(v => v.ListName).HasMaxLength(ScreeningListVersion.MaxListNameLength).IsRequired();
        builder.Property(v => v.FileName).HasMaxLength(260).IsRequired();
        builder.Property(v => v.Sha256).HasMaxLength(64).IsRequired();
        builder.HasIndex(v => new { v.ListKey, v.Number }).IsUnique();
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(v => v.ImportedByUserId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ScreeningListEntryConfiguration : IEntityTypeConfiguration<ScreeningListEntry>
{
    public void Configure(EntityTypeBuilder<ScreeningListEntry> builder)
    {
        builder.ToTable("screening_list_entries");
        builder.HasKey(e => new { e.VersionId, e.Ordinal });
        builder.Property(e => e.EntryId).HasMaxLength(ScreeningListCsv.MaxEntryIdLength).IsRequired();
        builder.Property(e => e.Name).HasMaxLength(ScreeningListCsv.MaxNameLength).IsRequired();
        builder.Property(e => e.SourceList).HasMaxLength(ScreeningListCsv.MaxSourceLength).IsRequired();
        builder.HasOne<ScreeningListVersion>().WithMany().HasForeignKey(e => e.VersionId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ScreeningNameConfiguration : IEntityTypeConfiguration<ScreeningName>
{
    public void Configure(EntityTypeBuilder<ScreeningName> builder)
    {
        builder.ToTable("screening_names");
        builder.HasKey(n => new { n.VersionId, n.Ordinal, n.Position });
        builder.Property(n => n.Normalized).HasMaxLength(NameNormalizer.MaxLength).IsRequired();
        // Candidates for a screened name come from this index (%, <% and %> of pg_trgm).
        builder.HasIndex(n => n.Normalized).HasMethod("gin").HasOperators("gin_trgm_ops");
        builder.HasOne<ScreeningListEntry>().WithMany().HasForeignKey(n => new { n.VersionId, n.Ordinal }).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ComplianceHitConfiguration : IEntityTypeConfiguration<ComplianceHit>
{
    public void Configure(EntityTypeBuilder<ComplianceHit> builder)
    {
        builder.ToTable("compliance_hits", t =>
        {
            t.HasCheckConstraint("ck_compliance_hits_score", "score IS NULL OR score BETWEEN 0 AND 100");
            t.HasCheckConstraint("ck_compliance_hits_finding", "(kind = 'ListMatch' AND entry_id IS NOT NULL AND score IS NOT NULL) OR (kind = 'CountryRule' AND country IS NOT NULL AND country_level IS NOT NULL)");
        });
        builder.Property(h => h.Id).ValueGeneratedNever();
        builder.Property(h => h.DedupKey).HasMaxLength(1_000).IsRequired();
        builder.Property(h => h.PartyName).HasMaxLength(300).IsRequired();
        builder.Property(h => h.ListKey).HasMaxLength(ScreeningListVersion.MaxListNameLength);
        builder.Property(h => h.EntryId).HasMaxLength(ScreeningListCsv.MaxEntryIdLength);
        builder.Property(h => h.MatchedName).HasMaxLength(NameNormalizer.MaxLength);
        builder.Property(h => h.Country).HasMaxLength(2);
        builder.Property(h => h.Rule).HasMaxLength(300);
        builder.Property(h => h.Resolution).HasMaxLength(ComplianceHit.MaxReasonLength).IsRequired();
        builder.Property(h => h.Version).IsRowVersion();
        builder.HasIndex(h => h.DedupKey).IsUnique();
        builder.HasIndex(h => new { h.Status, h.FoundAt });
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(h => h.UserId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(h => h.ResolvedByUserId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ComplianceHitLinkConfiguration : IEntityTypeConfiguration<ComplianceHitLink>
{
    public void Configure(EntityTypeBuilder<ComplianceHitLink> builder)
    {
        // Proposal and allocation ids without foreign keys, like allocations.proposal_id: the award gate links hits from
        // a unit of work of its own while the decision's transaction holds the proposal rows.
        builder.ToTable("compliance_hit_links", t => t.HasCheckConstraint("ck_compliance_hit_links_target", "(proposal_id IS NULL) <> (allocation_id IS NULL)"));
        builder.Property(l => l.Id).UseIdentityAlwaysColumn();
        builder.HasIndex(l => new { l.HitId, l.ProposalId, l.AllocationId }).IsUnique().AreNullsDistinct(false);
        builder.HasIndex(l => l.ProposalId);
        builder.HasIndex(l => l.AllocationId);
        builder.HasOne<ComplianceHit>().WithMany().HasForeignKey(l => l.HitId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class CountryRuleConfiguration : IEntityTypeConfiguration<CountryRule>
{
    public void Configure(EntityTypeBuilder<CountryRule> builder)
    {
        builder.ToTable("country_rules", t => t.HasCheckConstraint("ck_country_rules_level", "level IN ('Restricted', 'Embargoed')"));
        builder.HasKey(r => r.Country);
        builder.Property(r => r.Country).HasMaxLength(2);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(r => r.ChangedByUserId).OnDelete(DeleteBehavior.Restrict);
    }
}

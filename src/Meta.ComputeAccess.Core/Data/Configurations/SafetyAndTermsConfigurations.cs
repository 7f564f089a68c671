using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Safety;
using Meta.ComputeAccess.Terms;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class SafetyDecisionConfiguration : IEntityTypeConfiguration<SafetyDecision>
{
    public void Configure(EntityTypeBuilder<SafetyDecision> builder)
    {
        // Append-only (trigger in the migration); the newest row per proposal is its sign-off.
        builder.ToTable("safety_decisions");
        builder.Property(d => d.Text).HasMaxLength(SafetyDecision.MaxTextLength).IsRequired();
        // Flags: several at once, so a number rather than a name.
        builder.Property(d => d.Reasons).HasConversion<int>();
        builder.HasIndex(d => new { d.ProposalId, d.Id });
        builder.HasOne<Proposal>().WithMany().HasForeignKey(d => d.ProposalId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(d => d.DecidedByUserId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class AwardConditionAcceptanceConfiguration : IEntityTypeConfiguration<AwardConditionAcceptance>
{
    public void Configure(EntityTypeBuilder<AwardConditionAcceptance> builder)
    {
        // Append-only (trigger in the migration): what the PI accepted with an award, as it was worded.
        builder.ToTable("award_condition_acceptances");
        builder.Property(a => a.Key).HasMaxLength(100).IsRequired();
        builder.Property(a => a.Title).HasMaxLength(200).IsRequired();
        builder.Property(a => a.Text).HasMaxLength(TermsDocument.MaxTextLength).IsRequired();
        builder.HasIndex(a => new { a.ProposalId, a.Key }).IsUnique();
        builder.HasIndex(a => a.Key);
        builder.HasOne<Proposal>().WithMany().HasForeignKey(a => a.ProposalId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(a => a.AcceptedByUserId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class TermsDocumentConfiguration : IEntityTypeConfiguration<TermsDocument>
{
    public void Configure(EntityTypeBuilder<TermsDocument> builder)
    {
        // Append-only (trigger in the migration): a new version is a new row.
        builder.ToTable("terms_documents", t =>
        {
            t.HasCheckConstraint("ck_terms_documents_version", "version >= 1");
            t.HasCheckConstraint("ck_terms_documents_call", "(kind = 'AwardTerms') = (call_id IS NOT NULL)");
        });
        builder.Property(d => d.Id).ValueGeneratedNever();
        builder.Property(d => d.TextMarkdown).HasMaxLength(TermsDocument.MaxTextLength).IsRequired();
        builder.Property(d => d.Summary).HasMaxLength(500).IsRequired();
        // One version number per document; the terms of use have no call, and two of their versions must not share a number either.
        builder.HasIndex(d => new { d.Kind, d.CallId, d.Version }).IsUnique().AreNullsDistinct(false);
        builder.HasOne<Call>().WithMany().HasForeignKey(d => d.CallId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(d => d.PublishedByUserId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class TermsAcceptanceConfiguration : IEntityTypeConfiguration<TermsAcceptance>
{
    public void Configure(EntityTypeBuilder<TermsAcceptance> builder)
    {
        // Append-only (trigger in the migration).
        builder.ToTable("terms_acceptances");
        builder.HasIndex(a => new { a.UserId, a.DocumentId }).IsUnique();
        builder.HasIndex(a => new { a.DocumentId, a.AcceptedAt });
        builder.HasOne<TermsDocument>().WithMany().HasForeignKey(a => a.DocumentId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(a => a.UserId).OnDelete(DeleteBehavior.Restrict);
    }
}

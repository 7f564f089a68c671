using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using NpgsqlTypes;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class ProposalConfiguration : IEntityTypeConfiguration<Proposal>
{
    /// <summary>Shadow column holding the full-text document (title and keywords weigh more than the abstract).</summary>
    private const string SearchVector = ProposalSearch.VectorProperty;

    public void Configure(EntityTypeBuilder<Proposal> builder)
    {
        builder.ToTable("proposals");
        builder.Property(p => p.Title).HasMaxLength(200).IsRequired();
        builder.Property(p => p.AbstractMarkdown).HasMaxLength(20_000).IsRequired();
        builder.Property(p => p.KeywordsText).HasMaxLength(1000).IsRequired();
        builder.Property(p => p.ResearchField).HasMaxLength(100).IsRequired();
        builder.Property(p => p.ComputeJustification).HasMaxLength(20_000).IsRequired();
        builder.Property(p => p.PersonalDataDetails).HasMaxLength(5000).IsRequired();
        builder.Property(p => p.DualUseDetails).HasMaxLength(5000).IsRequired();
        builder.Property(p => p.HumanSubjectsDetails).HasMaxLength(5000).IsRequired();
        builder.Property(p => p.Licences).HasMaxLength(5000).IsRequired();
        builder.Property(p => p.OutputsDetails).HasMaxLength(5000).IsRequired();
        builder.Property(p => p.PlannedOutputs).HasConversion<int>();
        builder.Property(p => p.Version).IsRowVersion();
        builder.Property(p => p.PublicSummary).HasMaxLength(2000).IsRequired();
        builder.Property<NpgsqlTsVector>(SearchVector)
            .HasComputedColumnSql(
                "setweight(to_tsvector('english', coalesce(title, '')), 'A') || " +
                "setweight(to_tsvector('english', coalesce(keywords_text, '')), 'A') || " +
                "setweight(to_tsvector('english', coalesce(abstract_markdown, '')), 'B')",
                stored: true);
        builder.HasIndex(SearchVector).HasMethod("GIN");
        // The admin list of a call's proposals (docs/performance.md, pages): in submission order, or by status (and the
        // status filter) in submission order. Key and included columns cover what the list shows, so a page deep in
        // 10,000 proposals is an index-only scan instead of thousands of heap fetches and a sort.
        // The admin dashboard's queues count this index alone (grouped by call and status, decisions not released
        // included): an index-only scan of the open calls' proposals, never the wide rows.
        builder.HasIndex(p => new { p.CallId, p.Status, p.SubmittedAt, p.Id })
            .IncludeProperties(p => new { p.Title, p.PiUserId, p.ResearchField, p.DecisionReleasedAt });
        builder.HasIndex(p => new { p.CallId, p.SubmittedAt, p.Id })
            .IncludeProperties(p => new { p.Status, p.Title, p.PiUserId, p.ResearchField });
        // The same list sorted by title, and by total hours requested (largest first: the index read backwards, so that
        // "the page after this row" is the row-value range (total_requested_hours, id) < (@hours, @id)).
        builder.HasIndex(p => new { p.CallId, p.Title, p.Id })
            .IncludeProperties(p => new { p.Status, p.PiUserId, p.ResearchField, p.SubmittedAt });
        builder.HasIndex(p => new { p.CallId, p.TotalRequestedHours, p.Id })
            .IncludeProperties(p => new { p.Status, p.Title, p.PiUserId, p.ResearchField, p.SubmittedAt });
        builder.Property(p => p.TotalRequestedHours).HasPrecision(16, 2);
        builder.HasIndex(p => p.PiUserId);
        // The public page of awards and its feed, newest first: only listed awards are indexed.
        builder.HasIndex(p => p.AwardRespondedAt).HasFilter("listed_publicly");
        builder.HasOne<Call>().WithMany().HasForeignKey(p => p.CallId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(p => p.PiUserId).OnDelete(DeleteBehavior.Restrict);

        builder.HasMany(p => p.Requests).WithOne().HasForeignKey(r => r.ProposalId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(p => p.Requests).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.HasMany(p => p.Members).WithOne().HasForeignKey(m => m.ProposalId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(p => p.Members).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.HasMany(p => p.History).WithOne().HasForeignKey(h => h.ProposalId).OnDelete(DeleteBehavior.Restrict);
        builder.Navigation(p => p.History).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.Property(p => p.DecisionMessage).HasMaxLength(4000).IsRequired();
        builder.HasMany(p => p.Awards).WithOne().HasForeignKey(a => a.ProposalId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(p => p.Awards).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

internal sealed class ProposalClusterRequestConfiguration : IEntityTypeConfiguration<ProposalClusterRequest>
{
    public void Configure(EntityTypeBuilder<ProposalClusterRequest> builder)
    {
        builder.ToTable("proposal_cluster_requests", t =>
            t.HasCheckConstraint("ck_requests_hours", "requested_hours > 0 AND minimum_viable_hours >= 0 AND minimum_viable_hours <= requested_hours"));
        builder.HasKey(r => new { r.ProposalId, r.ClusterId });
        builder.Property(r => r.RequestedHours).HasPrecision(14, 2);
        builder.Property(r => r.MinimumViableHours).HasPrecision(14, 2);
        builder.HasOne<Cluster>().WithMany().HasForeignKey(r => r.ClusterId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(r => r.ClusterId);
    }
}

internal sealed class ProposalMemberConfiguration : IEntityTypeConfiguration<ProposalMember>
{
    public void Configure(EntityTypeBuilder<ProposalMember> builder)
    {
        builder.ToTable("proposal_members");
        builder.Property(m => m.Id).ValueGeneratedNever();
        builder.Property(m => m.InvitedEmail).HasMaxLength(254);
        builder.Property(m => m.InvitedEmailNormalized).HasMaxLength(254);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(m => new { m.UserId, m.ProposalId });
        builder.HasIndex(m => m.InvitedEmailNormalized).HasFilter("user_id IS NULL");
        builder.HasIndex(m => new { m.ProposalId, m.UserId }).IsUnique().HasFilter("user_id IS NOT NULL");
        // A proposal's whole team, pending invitations included: the partial unique index above leaves those out,
        // and without this every proposal page read the whole table (docs/performance.md, pages).
        builder.HasIndex(m => m.ProposalId);
    }
}

internal sealed class ProposalHistoryEntryConfiguration : IEntityTypeConfiguration<ProposalHistoryEntry>
{
    public void Configure(EntityTypeBuilder<ProposalHistoryEntry> builder)
    {
        builder.ToTable("proposal_history");
        builder.Property(h => h.Id).UseIdentityAlwaysColumn();
        builder.Property(h => h.Reason).HasMaxLength(1000).IsRequired();
        builder.HasIndex(h => new { h.ProposalId, h.Id });
    }
}

internal sealed class ProposalAttachmentConfiguration : IEntityTypeConfiguration<ProposalAttachment>
{
    public void Configure(EntityTypeBuilder<ProposalAttachment> builder)
    {
        builder.ToTable("proposal_attachments", t => t.HasCheckConstraint("ck_attachments_size", "size_bytes > 0 AND size_bytes <= 10485760"));
        builder.Property(a => a.Id).ValueGeneratedNever();
        builder.Property(a => a.FileName).HasMaxLength(160).IsRequired();
        builder.Property(a => a.Sha256).HasMaxLength(64).IsRequired();
        builder.HasOne<Proposal>().WithMany().HasForeignKey(a => a.ProposalId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(a => a.ProposalId);
    }
}

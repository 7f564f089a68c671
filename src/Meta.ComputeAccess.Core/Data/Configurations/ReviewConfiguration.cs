using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class ReviewerPoolMemberConfiguration : IEntityTypeConfiguration<ReviewerPoolMember>
{
    public void Configure(EntityTypeBuilder<ReviewerPoolMember> builder)
    {
        builder.ToTable("reviewer_pool_members", t => t.HasCheckConstraint("ck_pool_max_load", "max_load BETWEEN 0 AND 200"));
        builder.Property(m => m.Id).ValueGeneratedNever();
        builder.HasIndex(m => new { m.CallId, m.UserId }).IsUnique();
        builder.HasIndex(m => m.UserId);
        builder.HasOne<Call>().WithMany().HasForeignKey(m => m.CallId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ReviewerCollaboratorConfiguration : IEntityTypeConfiguration<ReviewerCollaborator>
{
    public void Configure(EntityTypeBuilder<ReviewerCollaborator> builder)
    {
        builder.ToTable("reviewer_collaborators");
        builder.HasKey(c => new { c.ReviewerUserId, c.NormalizedEmail });
        builder.Property(c => c.Email).HasMaxLength(256).IsRequired();
        builder.Property(c => c.NormalizedEmail).HasMaxLength(256).IsRequired();
        // Conflict detection matches declared addresses to accounts (users.normalized_email has its own index).
        builder.HasIndex(c => c.NormalizedEmail);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(c => c.ReviewerUserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ReviewConflictConfiguration : IEntityTypeConfiguration<ReviewConflict>
{
    public void Configure(EntityTypeBuilder<ReviewConflict> builder)
    {
        builder.ToTable("review_conflicts");
        builder.Property(c => c.Id).ValueGeneratedNever();
        builder.Property(c => c.Reason).HasMaxLength(500).IsRequired();
        builder.HasIndex(c => new { c.ProposalId, c.ReviewerUserId, c.Source }).IsUnique();
        builder.HasIndex(c => new { c.ReviewerUserId, c.ProposalId });
        builder.HasIndex(c => c.CallId);
        builder.HasOne<Proposal>().WithMany(p => p.Conflicts).HasForeignKey(c => c.ProposalId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(c => c.ReviewerUserId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ReviewBidConfiguration : IEntityTypeConfiguration<ReviewBid>
{
    public void Configure(EntityTypeBuilder<ReviewBid> builder)
    {
        builder.ToTable("review_bids");
        builder.HasKey(b => new { b.ProposalId, b.ReviewerUserId });
        builder.HasIndex(b => new { b.CallId, b.ReviewerUserId });
        builder.HasOne<Proposal>().WithMany().HasForeignKey(b => b.ProposalId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(b => b.ReviewerUserId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ScreeningConfiguration : IEntityTypeConfiguration<Screening>
{
    public void Configure(EntityTypeBuilder<Screening> builder)
    {
        builder.ToTable("screenings");
        builder.HasKey(s => s.ProposalId);
        builder.Property(s => s.EligibilityReason).HasMaxLength(2000).IsRequired();
        builder.Property(s => s.TechnicalNote).HasMaxLength(2000).IsRequired();
        builder.Ignore(s => s.Passed);
        builder.HasOne<Proposal>().WithOne().HasForeignKey<Screening>(s => s.ProposalId).OnDelete(DeleteBehavior.Cascade);
        builder.OwnsMany(s => s.Caps, c =>
        {
            c.ToTable("screening_caps", t => t.HasCheckConstraint("ck_screening_caps_hours", "hours >= 0"));
            c.WithOwner().HasForeignKey("ProposalId");
            c.HasKey("ProposalId", nameof(TechnicalCap.ClusterId));
            c.Property(x => x.Hours).HasPrecision(14, 2);
            c.HasOne<Cluster>().WithMany().HasForeignKey(x => x.ClusterId).OnDelete(DeleteBehavior.Restrict);
        });
        builder.Navigation(s => s.Caps).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

internal sealed class AssignmentRunConfiguration : IEntityTypeConfiguration<AssignmentRun>
{
    public void Configure(EntityTypeBuilder<AssignmentRun> builder)
    {
        builder.ToTable("assignment_runs");
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.SettingsJson).HasColumnType("jsonb").IsRequired();
        builder.Property(r => r.InputsJson).HasColumnType("jsonb").IsRequired();
        builder.Property(r => r.ResultJson).HasColumnType("jsonb").IsRequired();
        builder.HasIndex(r => new { r.CallId, r.CreatedAt });
        builder.HasOne<Call>().WithMany().HasForeignKey(r => r.CallId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(r => r.Pairs).WithOne().HasForeignKey(p => p.RunId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(r => r.Pairs).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

internal sealed class AssignmentRunPairConfiguration : IEntityTypeConfiguration<AssignmentRunPair>
{
    public void Configure(EntityTypeBuilder<AssignmentRunPair> builder)
    {
        builder.ToTable("assignment_run_pairs");
        builder.HasKey(p => new { p.RunId, p.ProposalId, p.ReviewerUserId });
        builder.Property(p => p.Affinity).HasPrecision(10, 3);
        builder.Property(p => p.Reason).HasMaxLength(500).IsRequired();
    }
}

internal sealed class ProposalReviewConfiguration : IEntityTypeConfiguration<ProposalReview>
{
    public void Configure(EntityTypeBuilder<ProposalReview> builder)
    {
        builder.ToTable("reviews", t =>
        {
            t.HasCheckConstraint("ck_reviews_overall", "overall IS NULL OR overall BETWEEN 1 AND 10");
            t.HasCheckConstraint("ck_reviews_confidence", "confidence IS NULL OR confidence BETWEEN 1 AND 3");
        });
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.CommentsForApplicants).HasMaxLength(20_000).IsRequired();
        builder.Property(r => r.ConfidentialComments).HasMaxLength(20_000).IsRequired();
        builder.Property(r => r.Version).IsRowVersion();
        builder.Ignore(r => r.IsSubmitted);
        builder.HasIndex(r => new { r.ProposalId, r.ReviewerUserId }).IsUnique();
        builder.HasIndex(r => new { r.ReviewerUserId, r.CallId });
        builder.HasIndex(r => r.CallId);
        // Navigations both ways for the visibility scopes only (Review/ReviewVisibility.cs); the table is unchanged.
        builder.HasOne(r => r.Proposal).WithMany(p => p.Reviews).HasForeignKey(r => r.ProposalId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne(r => r.Call).WithMany().HasForeignKey(r => r.CallId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(r => r.ReviewerUserId).OnDelete(DeleteBehavior.Restrict);
        // Plain child rows with generated ids: a re-saved form deletes and inserts them, never guesses which existed.
        builder.HasMany(r => r.Scores).WithOne().HasForeignKey("ReviewId").OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(r => r.Scores).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.HasMany(r => r.Recommendations).WithOne().HasForeignKey("ReviewId").OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(r => r.Recommendations).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

internal sealed class CriterionScoreConfiguration : IEntityTypeConfiguration<CriterionScore>
{
    public void Configure(EntityTypeBuilder<CriterionScore> builder)
    {
        builder.ToTable("review_criterion_scores", t => t.HasCheckConstraint("ck_review_scores_range", "score BETWEEN 1 AND 5"));
        builder.Property(x => x.Id).UseIdentityAlwaysColumn();
        builder.Property<Guid>("ReviewId");
        builder.HasIndex("ReviewId", nameof(CriterionScore.CriterionId)).IsUnique();
    }
}

internal sealed class RecommendedHoursConfiguration : IEntityTypeConfiguration<RecommendedHours>
{
    public void Configure(EntityTypeBuilder<RecommendedHours> builder)
    {
        builder.ToTable("review_recommended_hours", t => t.HasCheckConstraint("ck_review_hours", "hours >= 0"));
        builder.Property(x => x.Id).UseIdentityAlwaysColumn();
        builder.Property(x => x.Hours).HasPrecision(14, 2);
        builder.Property<Guid>("ReviewId");
        builder.HasIndex("ReviewId", nameof(RecommendedHours.ClusterId)).IsUnique();
    }
}

internal sealed class ProposalAwardConfiguration : IEntityTypeConfiguration<ProposalAward>
{
    public void Configure(EntityTypeBuilder<ProposalAward> builder)
    {
        builder.ToTable("proposal_awards", t => t.HasCheckConstraint("ck_proposal_awards_hours", "hours > 0"));
        builder.Property(a => a.Id).UseIdentityAlwaysColumn();
        builder.HasIndex(a => new { a.ProposalId, a.ClusterId }).IsUnique();
        builder.Property(a => a.Hours).HasPrecision(14, 2);
        builder.HasOne<Cluster>().WithMany().HasForeignKey(a => a.ClusterId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ReviewRevisionConfiguration : IEntityTypeConfiguration<ReviewRevision>
{
    public void Configure(EntityTypeBuilder<ReviewRevision> builder)
    {
        // Append-only (trigger in the migration): the score before each revision stays.
        builder.ToTable("review_revisions", t => t.HasCheckConstraint("ck_review_revisions_scores", "from_overall BETWEEN 1 AND 10 AND to_overall BETWEEN 1 AND 10"));
        builder.Property(r => r.Id).UseIdentityAlwaysColumn();
        builder.Property(r => r.Reason).HasMaxLength(2000).IsRequired();
        builder.HasIndex(r => new { r.ReviewId, r.Id });
        builder.HasIndex(r => r.ProposalId);
        builder.HasOne<ProposalReview>().WithMany().HasForeignKey(r => r.ReviewId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ReviewResponseConfiguration : IEntityTypeConfiguration<ReviewResponse>
{
    public void Configure(EntityTypeBuilder<ReviewResponse> builder)
    {
        // Append-only (trigger in the migration), and one per proposal.
        builder.ToTable("review_responses");
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.TextMarkdown).HasMaxLength(ReviewResponse.MaxLength).IsRequired();
        builder.HasIndex(r => r.ProposalId).IsUnique();
        builder.HasIndex(r => r.CallId);
        builder.HasOne<Proposal>().WithMany().HasForeignKey(r => r.ProposalId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(r => r.AuthorUserId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class DecisionAppealConfiguration : IEntityTypeConfiguration<DecisionAppeal>
{
    public void Configure(EntityTypeBuilder<DecisionAppeal> builder)
    {
        builder.ToTable("decision_appeals", t => t.HasCheckConstraint("ck_decision_appeals_decided",
            "(outcome IS NULL AND decided_at IS NULL AND decided_by_user_id IS NULL) OR (outcome IS NOT NULL AND decided_at IS NOT NULL AND decided_by_user_id IS NOT NULL)"));
        builder.Property(a => a.Id).ValueGeneratedNever();
        builder.Property(a => a.Reason).HasMaxLength(DecisionAppeal.MaxReasonLength).IsRequired();
        builder.Property(a => a.DecisionReason).HasMaxLength(DecisionAppeal.MaxDecisionReasonLength).IsRequired();
        builder.Property(a => a.Version).IsRowVersion();
        // One appeal per decision: a released decision never changes, so one per proposal.
        builder.HasIndex(a => a.ProposalId).IsUnique();
        builder.HasIndex(a => new { a.Outcome, a.FiledAt });
        builder.HasOne<Proposal>().WithMany().HasForeignKey(a => a.ProposalId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(a => a.FiledByUserId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(a => a.DecidedByUserId).OnDelete(DeleteBehavior.Restrict);
    }
}

using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Meta.ComputeAccess.Data.Configurations;

internal sealed class AllocationPeriodConfiguration : IEntityTypeConfiguration<AllocationPeriod>
{
    public void Configure(EntityTypeBuilder<AllocationPeriod> builder)
    {
        builder.ToTable("allocation_periods", t => t.HasCheckConstraint("ck_allocation_periods_dates", "end_date > start_date"));
        builder.Property(p => p.Name).HasMaxLength(64).IsRequired();
        builder.HasIndex(p => p.Name).IsUnique();
    }
}

internal sealed class ClusterCapacityConfiguration : IEntityTypeConfiguration<ClusterCapacity>
{
    public void Configure(EntityTypeBuilder<ClusterCapacity> builder)
    {
        builder.ToTable("cluster_capacities", t =>
        {
            // The hard limit, whatever the code does: committed ≤ capacity × factor − reserve.
            t.HasCheckConstraint("ck_cluster_capacities_within_limit", "committed_hours <= capacity_hours * oversubscription_factor - reserve_hours");
            t.HasCheckConstraint("ck_cluster_capacities_non_negative", "capacity_hours >= 0 AND reserve_hours >= 0 AND committed_hours >= 0 AND oversubscription_factor >= 1");
        });
        builder.Property(c => c.CapacityHours).HasPrecision(18, 6);
        builder.Property(c => c.OversubscriptionFactor).HasPrecision(6, 3);
        builder.Property(c => c.ReserveHours).HasPrecision(18, 6);
        builder.Property(c => c.CommittedHours).HasPrecision(18, 6);
        builder.HasIndex(c => new { c.ClusterId, c.PeriodId }).IsUnique();
        builder.HasOne<Cluster>().WithMany().HasForeignKey(c => c.ClusterId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<AllocationPeriod>().WithMany().HasForeignKey(c => c.PeriodId).OnDelete(DeleteBehavior.Restrict);
        builder.Ignore(c => c.Grantable);
        builder.Ignore(c => c.Free);
    }
}

internal sealed class AllocationConfiguration : IEntityTypeConfiguration<Allocation>
{
    public void Configure(EntityTypeBuilder<Allocation> builder)
    {
        builder.ToTable("allocations", t => t.HasCheckConstraint("ck_allocations_dates", "end_date >= start_date"));
        builder.Property(a => a.ProjectTitle).HasMaxLength(300).IsRequired();
        builder.Property(a => a.SlurmAccount).HasMaxLength(30).IsRequired();
        // Not unique: a renewal is a new allocation of the same account (AllocationService keeps open ones from overlapping).
        builder.HasIndex(a => a.SlurmAccount);
        builder.HasIndex(a => a.PiUserId);
        builder.HasIndex(a => a.ProposalId);
        builder.HasIndex(a => a.State);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(a => a.PiUserId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<AllocationPeriod>().WithMany().HasForeignKey(a => a.PeriodId).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(a => a.Events).WithOne().HasForeignKey(e => e.AllocationId).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(a => a.Quotas).WithOne().HasForeignKey(q => q.AllocationId).OnDelete(DeleteBehavior.Restrict);
        builder.Navigation(a => a.Events).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.Navigation(a => a.Quotas).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.HasMany(a => a.Members).WithOne().HasForeignKey(m => m.AllocationId).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(a => a.MemberEvents).WithOne().HasForeignKey(e => e.AllocationId).OnDelete(DeleteBehavior.Restrict);
        builder.Navigation(a => a.Members).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.Navigation(a => a.MemberEvents).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.Ignore(a => a.StartsAt);
        builder.Ignore(a => a.EndsAt);
        builder.Ignore(a => a.IsOpen);
    }
}

internal sealed class AllocationQuotaConfiguration : IEntityTypeConfiguration<AllocationQuota>
{
    public void Configure(EntityTypeBuilder<AllocationQuota> builder)
    {
        builder.ToTable("allocation_quotas");
        builder.HasKey(q => new { q.AllocationId, q.ClusterId });
        builder.Property(q => q.GrantedHours).HasPrecision(18, 6);
        builder.Property(q => q.UsedHours).HasPrecision(18, 6);
        builder.Property(q => q.ExpiredHours).HasPrecision(18, 6);
        builder.Property(q => q.HeldHours).HasPrecision(18, 6);
        builder.Ignore(q => q.RemainingHours);
        builder.HasIndex(q => q.ClusterId);
        builder.HasOne<Cluster>().WithMany().HasForeignKey(q => q.ClusterId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class AllocationEventConfiguration : IEntityTypeConfiguration<AllocationEvent>
{
    public void Configure(EntityTypeBuilder<AllocationEvent> builder)
    {
        builder.ToTable("allocation_events");
        builder.Property(e => e.Id).UseIdentityAlwaysColumn();
        builder.Property(e => e.Action).HasMaxLength(40).IsRequired();
        builder.Property(e => e.Detail).HasMaxLength(2000).IsRequired();
        builder.HasIndex(e => new { e.AllocationId, e.At });
    }
}

internal sealed class AllocationUserUsageConfiguration : IEntityTypeConfiguration<AllocationUserUsage>
{
    public void Configure(EntityTypeBuilder<AllocationUserUsage> builder)
    {
        builder.ToTable("allocation_user_usage");
        // Written only by SQL (UsageCharges, an upsert per batch); read by allocation.
        builder.HasKey(u => new { u.AllocationId, u.ClusterId, u.UserName });
        builder.Property(u => u.UserName).HasMaxLength(128);
        builder.Property(u => u.GpuHours).HasPrecision(18, 6);
        builder.HasOne<Allocation>().WithMany().HasForeignKey(u => u.AllocationId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class AllocationLedgerEntryConfiguration : IEntityTypeConfiguration<AllocationLedgerEntry>
{
    public void Configure(EntityTypeBuilder<AllocationLedgerEntry> builder)
    {
        builder.ToTable("ledger_entries", t => t.HasCheckConstraint("ck_ledger_entries_sign_follows_kind",
            "(kind IN ('Grant', 'Supplement', 'TransferIn', 'TrancheRelease', 'Advance') AND hours >= 0) OR (kind IN ('Usage', 'TransferOut', 'Expiry', 'AdvanceDeduction') AND hours <= 0) OR kind = 'Adjustment'"));
        builder.Property(e => e.Id).UseIdentityAlwaysColumn();
        builder.Property(e => e.Hours).HasPrecision(18, 6);
        builder.Property(e => e.Cause).HasMaxLength(500).IsRequired();
        builder.HasIndex(e => new { e.AllocationId, e.ClusterId, e.EffectiveAt });
        builder.Property(e => e.UsageJobId).HasMaxLength(64).UseCollation("C");
        // One entry per job: a job is named by its id and submit time, which is null for jobs sent without one.
        builder.HasIndex(e => new { e.ClusterId, e.UsageJobId, e.UsageJobSubmittedAt }).IsUnique().AreNullsDistinct(false).HasFilter("usage_job_id IS NOT NULL")
            .HasDatabaseName("ix_ledger_entries_usage_job");
        builder.HasOne<Allocation>().WithMany().HasForeignKey(e => e.AllocationId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Cluster>().WithMany().HasForeignKey(e => e.ClusterId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<SupplementRequest>().WithMany().HasForeignKey(e => e.SupplementRequestId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<ChargePolicy>().WithMany().HasForeignKey(e => e.ChargePolicyId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<AllocationAdvance>().WithMany().HasForeignKey(e => e.AdvanceId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class TransferRequestConfiguration : IEntityTypeConfiguration<TransferRequest>
{
    public void Configure(EntityTypeBuilder<TransferRequest> builder)
    {
        builder.ToTable("transfer_requests", t => t.HasCheckConstraint("ck_transfer_requests_hours", "hours > 0 AND from_cluster_id <> to_cluster_id"));
        builder.Property(s => s.Hours).HasPrecision(18, 6);
        builder.Property(s => s.Justification).HasMaxLength(4000).IsRequired();
        builder.Property(s => s.DecisionMessage).HasMaxLength(2000);
        builder.HasIndex(s => new { s.AllocationId, s.Status });
        builder.HasOne<Allocation>().WithMany().HasForeignKey(s => s.AllocationId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Cluster>().WithMany().HasForeignKey(s => s.FromClusterId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Cluster>().WithMany().HasForeignKey(s => s.ToClusterId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class AllocationTrancheConfiguration : IEntityTypeConfiguration<AllocationTranche>
{
    public void Configure(EntityTypeBuilder<AllocationTranche> builder)
    {
        builder.ToTable("allocation_tranches", t => t.HasCheckConstraint("ck_allocation_tranches_hours", "hours >= 0 AND number >= 2"));
        builder.Property(t => t.Id).UseIdentityAlwaysColumn();
        builder.Property(t => t.Hours).HasPrecision(18, 6);
        builder.Property(t => t.Condition).HasMaxLength(200).IsRequired();
        builder.Property(t => t.Outcome).HasMaxLength(600);
        builder.HasIndex(t => new { t.AllocationId, t.Number, t.ClusterId }).IsUnique();
        builder.Ignore(t => t.IsPending);
        builder.HasOne<Allocation>().WithMany().HasForeignKey(t => t.AllocationId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Cluster>().WithMany().HasForeignKey(t => t.ClusterId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class AllocationAdvanceConfiguration : IEntityTypeConfiguration<AllocationAdvance>
{
    public void Configure(EntityTypeBuilder<AllocationAdvance> builder)
    {
        // Append-only (a trigger, from the migration): what became of an advance is read from the ledger and the proposal.
        builder.ToTable("allocation_advances", t => t.HasCheckConstraint("ck_allocation_advances_hours", "hours > 0"));
        builder.Property(a => a.Hours).HasPrecision(18, 6);
        builder.Property(a => a.Reason).HasMaxLength(500).IsRequired();
        builder.HasIndex(a => new { a.ProposalId, a.ClusterId });
        builder.HasIndex(a => a.AllocationId);
        builder.HasOne<Allocation>().WithMany().HasForeignKey(a => a.AllocationId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Meta.ComputeAccess.Proposals.Proposal>().WithMany().HasForeignKey(a => a.ProposalId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Cluster>().WithMany().HasForeignKey(a => a.ClusterId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class SupplementRequestConfiguration : IEntityTypeConfiguration<SupplementRequest>
{
    public void Configure(EntityTypeBuilder<SupplementRequest> builder)
    {
        builder.ToTable("supplement_requests");
        builder.Property(s => s.RequestedHours).HasPrecision(18, 6);
        builder.Property(s => s.ApprovedHours).HasPrecision(18, 6);
        builder.Property(s => s.Justification).HasMaxLength(4000).IsRequired();
        builder.Property(s => s.DecisionMessage).HasMaxLength(2000);
        builder.HasIndex(s => new { s.AllocationId, s.Status });
        builder.HasOne<Allocation>().WithMany().HasForeignKey(s => s.AllocationId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class AllocationNoticeSentConfiguration : IEntityTypeConfiguration<AllocationNoticeSent>
{
    public void Configure(EntityTypeBuilder<AllocationNoticeSent> builder)
    {
        builder.ToTable("allocation_notices_sent");
        builder.HasKey(n => new { n.AllocationId, n.Key });
        builder.Property(n => n.Key).HasMaxLength(40);
        builder.HasOne<Allocation>().WithMany().HasForeignKey(n => n.AllocationId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ProgressReportConfiguration : IEntityTypeConfiguration<ProgressReport>
{
    public void Configure(EntityTypeBuilder<ProgressReport> builder)
    {
        builder.ToTable("progress_reports");
        builder.Property(r => r.Narrative).HasMaxLength(ProgressReport.MaxNarrative).IsRequired();
        builder.Property(r => r.Version).IsRowVersion();
        // One scheduled report of each kind per allocation: the job may run twice, the report is asked for once.
        // Reports an admin asks for on demand (requested_by set) are extra.
        builder.HasIndex(r => new { r.AllocationId, r.Kind }).IsUnique().HasFilter("requested_by IS NULL");
        builder.Ignore(r => r.IsOnRequest);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(r => r.RequestedBy).OnDelete(DeleteBehavior.Restrict);
        // The admins' queues: reports waiting to be accepted, and due ones by date.
        builder.HasIndex(r => new { r.Status, r.DueOn });
        builder.HasOne<Allocation>().WithMany().HasForeignKey(r => r.AllocationId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(r => r.SubmittedBy).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(r => r.AcceptedBy).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(r => r.Outputs).WithOne().HasForeignKey(o => o.ReportId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(r => r.Outputs).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

internal sealed class ReportOutputConfiguration : IEntityTypeConfiguration<ReportOutput>
{
    public void Configure(EntityTypeBuilder<ReportOutput> builder)
    {
        builder.ToTable("report_outputs", t => t.HasCheckConstraint("ck_report_outputs_doi_or_url", "(doi IS NULL) <> (url IS NULL)"));
        builder.Property(o => o.Title).HasMaxLength(300).IsRequired();
        builder.Property(o => o.Doi).HasMaxLength(300);
        builder.Property(o => o.Url).HasMaxLength(2000);
        builder.Property(o => o.Licence).HasMaxLength(100).IsRequired();
        builder.Ignore(o => o.Link);
    }
}

internal sealed class AllocationMemberConfiguration : IEntityTypeConfiguration<AllocationMember>
{
    public void Configure(EntityTypeBuilder<AllocationMember> builder)
    {
        builder.ToTable("allocation_members");
        // Set by the domain: a member added to a loaded allocation is new, not an existing row.
        builder.Property(m => m.Id).ValueGeneratedNever();
        builder.HasIndex(m => new { m.AllocationId, m.UserId }).IsUnique();
        // "My allocations" and the visibility scope look members up by user.
        builder.HasIndex(m => new { m.UserId, m.Status });
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Restrict);
        builder.Ignore(m => m.IsActive);
    }
}

internal sealed class AllocationMemberEventConfiguration : IEntityTypeConfiguration<AllocationMemberEvent>
{
    public void Configure(EntityTypeBuilder<AllocationMemberEvent> builder)
    {
        builder.ToTable("allocation_member_events");
        builder.Property(e => e.Id).UseIdentityAlwaysColumn();
        builder.Property(e => e.Action).HasMaxLength(20).IsRequired();
        builder.Property(e => e.Detail).HasMaxLength(500).IsRequired();
        builder.HasIndex(e => new { e.AllocationId, e.At });
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(e => e.UserId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ClusterPlanVersionConfiguration : IEntityTypeConfiguration<ClusterPlanVersion>
{
    public void Configure(EntityTypeBuilder<ClusterPlanVersion> builder)
    {
        builder.ToTable("cluster_plan_versions");
        builder.HasKey(v => new { v.ClusterId, v.ETag });
        builder.Property(v => v.ETag).HasColumnName("etag").HasMaxLength(80).UseCollation("C");
        builder.HasOne<Cluster>().WithMany().HasForeignKey(v => v.ClusterId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ClusterSyncReportConfiguration : IEntityTypeConfiguration<ClusterSyncReport>
{
    public void Configure(EntityTypeBuilder<ClusterSyncReport> builder)
    {
        builder.ToTable("cluster_sync_reports");
        builder.Property(r => r.Id).UseIdentityAlwaysColumn();
        builder.Property(r => r.AgentVersion).HasMaxLength(100);
        builder.Property(r => r.PlanETag).HasColumnName("plan_etag").HasMaxLength(300);
        builder.Property(r => r.Error).HasMaxLength(2000);
        builder.Property(r => r.BodySha256).HasColumnName("body_sha256").IsRequired();
        // A report sent twice (a retry after a lost answer) is stored once.
        builder.HasIndex(r => new { r.ClusterId, r.BodySha256 }).IsUnique();
        builder.HasIndex(r => new { r.ClusterId, r.Id });
        builder.HasOne<Cluster>().WithMany().HasForeignKey(r => r.ClusterId).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(r => r.Outcomes).WithOne().HasForeignKey(o => o.ReportId).OnDelete(DeleteBehavior.Restrict);
        builder.Navigation(r => r.Outcomes).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

internal sealed class ClusterSyncOutcomeConfiguration : IEntityTypeConfiguration<ClusterSyncOutcome>
{
    public void Configure(EntityTypeBuilder<ClusterSyncOutcome> builder)
    {
        builder.ToTable("cluster_sync_outcomes");
        builder.Property(o => o.Id).UseIdentityAlwaysColumn();
        builder.Property(o => o.Account).HasMaxLength(200).UseCollation("C").IsRequired();
        builder.Property(o => o.UsageResetEpoch).HasMaxLength(200);
        builder.Property(o => o.Error).HasMaxLength(2000);
        // The allocation page asks for an account's latest outcome per cluster.
        builder.HasIndex(o => new { o.Account, o.ClusterId, o.Id });
        builder.HasIndex(o => o.ReportId);
        builder.HasOne<Allocation>().WithMany().HasForeignKey(o => o.AllocationId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ClusterSilenceAlertConfiguration : IEntityTypeConfiguration<ClusterSilenceAlert>
{
    public void Configure(EntityTypeBuilder<ClusterSilenceAlert> builder)
    {
        builder.ToTable("cluster_silence_alerts");
        builder.HasKey(a => new { a.ClusterId, a.Since });
        builder.HasOne<Cluster>().WithMany().HasForeignKey(a => a.ClusterId).OnDelete(DeleteBehavior.Cascade);
    }
}

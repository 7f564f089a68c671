using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Compliance;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Privacy;
using Meta.ComputeAccess.Usage;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Safety;
using Meta.ComputeAccess.Terms;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Data;

/// <summary>The unit of work for the whole portal: Identity, domain modules and data-protection keys, in one database.</summary>
public sealed class PortalDbContext(DbContextOptions<PortalDbContext> options)
    : IdentityDbContext<PortalUser, PortalRole, Guid>(options), IDataProtectionKeyContext
{
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    public DbSet<SignInEvent> SignInEvents => Set<SignInEvent>();

    public DbSet<UserSession> UserSessions => Set<UserSession>();

    public DbSet<RateLimitWindow> RateLimitWindows => Set<RateLimitWindow>();

    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    public DbSet<OutboxAttempt> OutboxAttempts => Set<OutboxAttempt>();

    public DbSet<Notification> Notifications => Set<Notification>();

    public DbSet<NotificationPreference> NotificationPreferences => Set<NotificationPreference>();

    public DbSet<NotificationDigest> NotificationDigests => Set<NotificationDigest>();

    public DbSet<Cluster> Clusters => Set<Cluster>();

    public DbSet<Call> Calls => Set<Call>();

    public DbSet<Proposal> Proposals => Set<Proposal>();

    public DbSet<ProposalMember> ProposalMembers => Set<ProposalMember>();

    public DbSet<ProposalHistoryEntry> ProposalHistory => Set<ProposalHistoryEntry>();

    public DbSet<ProposalAttachment> ProposalAttachments => Set<ProposalAttachment>();

    public DbSet<ClusterToken> ClusterTokens => Set<ClusterToken>();

    public DbSet<ChargePolicy> ChargePolicies => Set<ChargePolicy>();

    public DbSet<AllocationPeriod> AllocationPeriods => Set<AllocationPeriod>();

    public DbSet<ClusterCapacity> ClusterCapacities => Set<ClusterCapacity>();

    public DbSet<Allocation> Allocations => Set<Allocation>();

    public DbSet<AllocationQuota> AllocationQuotas => Set<AllocationQuota>();

    public DbSet<AllocationEvent> AllocationEvents => Set<AllocationEvent>();

    public DbSet<AllocationLedgerEntry> LedgerEntries => Set<AllocationLedgerEntry>();

    public DbSet<AllocationUserUsage> AllocationUserUsage => Set<AllocationUserUsage>();

    public DbSet<SupplementRequest> SupplementRequests => Set<SupplementRequest>();

    public DbSet<TransferRequest> TransferRequests => Set<TransferRequest>();

    public DbSet<AllocationTranche> AllocationTranches => Set<AllocationTranche>();

    public DbSet<AllocationAdvance> AllocationAdvances => Set<AllocationAdvance>();

    public DbSet<AllocationNoticeSent> AllocationNoticesSent => Set<AllocationNoticeSent>();

    public DbSet<ProgressReport> ProgressReports => Set<ProgressReport>();

    public DbSet<AllocationMember> AllocationMembers => Set<AllocationMember>();

    public DbSet<AllocationMemberEvent> AllocationMemberEvents => Set<AllocationMemberEvent>();

    public DbSet<ClusterLogin> ClusterLogins => Set<ClusterLogin>();

    public DbSet<ClusterPlanVersion> ClusterPlanVersions => Set<ClusterPlanVersion>();

    public DbSet<ClusterSyncReport> ClusterSyncReports => Set<ClusterSyncReport>();

    public DbSet<ClusterSyncOutcome> ClusterSyncOutcomes => Set<ClusterSyncOutcome>();

    public DbSet<ClusterSilenceAlert> ClusterSilenceAlerts => Set<ClusterSilenceAlert>();

    public DbSet<StoredUsageRecord> UsageRecords => Set<StoredUsageRecord>();

    public DbSet<UnmatchedUsage> UnmatchedUsage => Set<UnmatchedUsage>();

    public DbSet<ProposalAward> ProposalAwards => Set<ProposalAward>();

    public DbSet<ReviewerPoolMember> ReviewerPool => Set<ReviewerPoolMember>();

    public DbSet<ReviewerCollaborator> ReviewerCollaborators => Set<ReviewerCollaborator>();

    public DbSet<ReviewConflict> ReviewConflicts => Set<ReviewConflict>();

    public DbSet<ReviewBid> ReviewBids => Set<ReviewBid>();

    public DbSet<Screening> Screenings => Set<Screening>();

    public DbSet<AssignmentRun> AssignmentRuns => Set<AssignmentRun>();

    public DbSet<AssignmentRunPair> AssignmentRunPairs => Set<AssignmentRunPair>();

    public DbSet<ProposalReview> Reviews => Set<ProposalReview>();

    public DbSet<ReviewRevision> ReviewRevisions => Set<ReviewRevision>();

    public DbSet<ReviewResponse> ReviewResponses => Set<ReviewResponse>();

    public DbSet<DecisionAppeal> DecisionAppeals => Set<DecisionAppeal>();

    public DbSet<ScreeningListVersion> ScreeningListVersions => Set<ScreeningListVersion>();

    public DbSet<ScreeningListEntry> ScreeningListEntries => Set<ScreeningListEntry>();

    public DbSet<ScreeningName> ScreeningNames => Set<ScreeningName>();

    public DbSet<ComplianceHit> ComplianceHits => Set<ComplianceHit>();

    public DbSet<ComplianceHitLink> ComplianceHitLinks => Set<ComplianceHitLink>();

    public DbSet<CountryRule> CountryRules => Set<CountryRule>();

    public DbSet<SafetyDecision> SafetyDecisions => Set<SafetyDecision>();

    public DbSet<AwardConditionAcceptance> AwardConditionAcceptances => Set<AwardConditionAcceptance>();

    public DbSet<TermsDocument> TermsDocuments => Set<TermsDocument>();

    public DbSet<TermsAcceptance> TermsAcceptances => Set<TermsAcceptance>();

    public DbSet<RetentionRun> RetentionRuns => Set<RetentionRun>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // Trigram matching of screening names (Compliance/ScreeningMatches); in Debian's postgresql package, trusted since PostgreSQL 13.
        builder.HasPostgresExtension("pg_trgm");
        // "Former user 12": the number a closed account goes by (Privacy/AccountClosure).
        builder.HasSequence<long>("former_user_numbers");
        builder.ApplyConfigurationsFromAssembly(typeof(PortalDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Enums are stored by name: readable in SQL and safe against reordering.
        configurationBuilder.Properties<Enum>().HaveConversion<string>().HaveMaxLength(32);
    }
}

using Meta.ComputeAccess.Allocation;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Usage;
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

    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    public DbSet<Cluster> Clusters => Set<Cluster>();

    public DbSet<ClusterToken> ClusterTokens => Set<ClusterToken>();

    public DbSet<AllocationPeriod> AllocationPeriods => Set<AllocationPeriod>();

    public DbSet<ClusterCapacity> ClusterCapacities => Set<ClusterCapacity>();

    public DbSet<Allocation.Allocation> Allocations => Set<Allocation.Allocation>();

    public DbSet<AllocationQuota> AllocationQuotas => Set<AllocationQuota>();

    public DbSet<AllocationEvent> AllocationEvents => Set<AllocationEvent>();

    public DbSet<AllocationLedgerEntry> LedgerEntries => Set<AllocationLedgerEntry>();

    public DbSet<SupplementRequest> SupplementRequests => Set<SupplementRequest>();

    public DbSet<AllocationNoticeSent> AllocationNoticesSent => Set<AllocationNoticeSent>();

    public DbSet<StoredUsageRecord> UsageRecords => Set<StoredUsageRecord>();

    public DbSet<UnmatchedUsage> UnmatchedUsage => Set<UnmatchedUsage>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(PortalDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Enums are stored by name: readable in SQL and safe against reordering.
        configurationBuilder.Properties<Enum>().HaveConversion<string>().HaveMaxLength(32);
    }
}

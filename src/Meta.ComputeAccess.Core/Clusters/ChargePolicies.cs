using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Clusters;

/// <summary>
/// A cluster's charge policy versions: an admin adds one (never edits one), effective from a time not in the past, so
/// no job already charged would have been charged differently; everyone reads the version in force.
/// </summary>
public sealed class ChargePolicies(PortalDbContext db, AuditLog audit, TimeProvider clock)
{
    /// <summary>Adds the next version of <paramref name="clusterId"/>'s policy; refused with a reason per field.</summary>
    public async Task<ChargePolicy> AddVersionAsync(Guid clusterId, DateTimeOffset effectiveFrom, string? rates, string? multipliers, string? note, Guid actor, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var cluster = await db.Clusters.AsNoTracking().Where(c => c.Id == clusterId).Select(c => new { c.Name }).SingleOrDefaultAsync(cancellationToken)
            ?? throw new DomainException("No such cluster.");
        // One version at a time per cluster: the row lock serialises two admins, the unique index backs it.
        await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            await db.LockAsync<Cluster>($"SELECT * FROM clusters WHERE id = {clusterId} FOR UPDATE", cancellationToken);
            var latest = await db.ChargePolicies.AsNoTracking().Where(p => p.ClusterId == clusterId).OrderByDescending(p => p.Version)
                .Select(p => new { p.Version, p.EffectiveFrom }).FirstOrDefaultAsync(cancellationToken);
            if (effectiveFrom < now.AddMinutes(-1))
            {
                throw new DomainException("A new version takes effect now or later: jobs already charged keep the rates they were charged at.",
                    new Dictionary<string, string> { ["EffectiveFrom"] = "Choose a time from now on." });
            }
            if (latest is not null && effectiveFrom <= latest.EffectiveFrom)
            {
                throw new DomainException($"Version {latest.Version} takes effect {latest.EffectiveFrom:yyyy-MM-dd HH:mm} UTC; a new version must take effect after it.",
                    new Dictionary<string, string> { ["EffectiveFrom"] = "Choose a later time." });
            }
            var policy = ChargePolicy.Create(clusterId, (latest?.Version ?? 0) + 1, effectiveFrom, rates, multipliers, note, actor, now);
            db.ChargePolicies.Add(policy);
            audit.Record(actor, "cluster.rates", "cluster", clusterId.ToString(),
                $"{cluster.Name}: charge policy version {policy.Version} from {effectiveFrom:yyyy-MM-dd HH:mm} UTC: {policy.RatesText.Replace('\n', ' ')}" +
                (policy.MultipliersText.Length > 0 ? $"; partitions {policy.MultipliersText.Replace('\n', ' ')}" : "") + $" ({policy.Note})");
            await db.SaveChangesAsync(cancellationToken);
            await db.Database.CommitTransactionAsync(cancellationToken);
            return policy;
        }
        catch
        {
            await db.Database.RollbackTransactionAsync(cancellationToken);
            db.ChangeTracker.Clear();
            throw;
        }
    }

    /// <summary>Every version of the clusters' policies (oldest first), to price a batch (<see cref="ChargePolicySet"/>).</summary>
    public static async Task<ChargePolicySet> SetForAsync(PortalDbContext db, Guid clusterId, CancellationToken cancellationToken = default) =>
        new(clusterId, await db.ChargePolicies.AsNoTracking().Where(p => p.ClusterId == clusterId).ToListAsync(cancellationToken));

    /// <summary>The version in force at <paramref name="at"/> on each cluster (the default rate 1 where none is set).</summary>
    public static async Task<IReadOnlyDictionary<Guid, ChargePolicy>> InForceAsync(PortalDbContext db, IReadOnlyCollection<Guid> clusterIds, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        var versions = await db.ChargePolicies.AsNoTracking().Where(p => clusterIds.Contains(p.ClusterId)).ToListAsync(cancellationToken);
        return clusterIds.Distinct().ToDictionary(id => id, id => new ChargePolicySet(id, versions.Where(v => v.ClusterId == id)).At(at));
    }
}

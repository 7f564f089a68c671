using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Compliance;

/// <summary>
/// A compliance officer's decision on a hit: clear it (with the reason it does not apply) or block (with the reason it
/// does). Blocking also suspends the active allocations the hit concerns, so the clusters stop running the team's jobs;
/// clearing never resumes them (an admin decides that). Each decision is audited, in one transaction.
/// </summary>
public sealed class ComplianceQueue(PortalDbContext db, AllocationService allocations, AuditLog audit, TimeProvider clock)
{
    public Task ClearAsync(Guid hitId, string reason, Guid officer, CancellationToken cancellationToken) =>
        db.SaveAsync(async () =>
        {
            var hit = await LoadAsync(hitId, cancellationToken);
            hit.Clear(officer, reason, clock.GetUtcNow());
            audit.Record(officer, "compliance.hit-cleared", "compliance-hit", hit.Id.ToString(), $"Cleared the screening hit on {hit.PartyName}: {hit.Resolution}");
        }, cancellationToken);

    /// <summary>Blocks the hit; returns how many allocations were suspended with it.</summary>
    public Task<int> BlockAsync(Guid hitId, string reason, Guid officer, CancellationToken cancellationToken) =>
        db.SaveAsync(async () =>
        {
            var hit = await LoadAsync(hitId, cancellationToken);
            hit.Block(officer, reason, clock.GetUtcNow());
            audit.Record(officer, "compliance.hit-blocked", "compliance-hit", hit.Id.ToString(), $"Blocked on the screening hit on {hit.PartyName}: {hit.Resolution}");
            var active = await (from link in db.ComplianceHitLinks
                                join a in db.Allocations on link.AllocationId equals a.Id
                                where link.HitId == hitId && a.State == AllocationState.Active
                                select a.Id).Distinct().ToListAsync(cancellationToken);
            foreach (var allocationId in active)
            {
                // In this transaction: the block and the suspensions commit together.
                await allocations.SuspendAsync(allocationId, "Compliance block: a screening hit on the team was confirmed.", officer, cancellationToken);
            }
            return active.Count;
        }, cancellationToken);

    private async Task<ComplianceHit> LoadAsync(Guid hitId, CancellationToken cancellationToken) =>
        await db.ComplianceHits.SingleOrDefaultAsync(h => h.Id == hitId, cancellationToken) ?? throw new DomainException("No such screening hit.");
}

using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
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
            // The proposals the hit concerns (named by it, or by its allocations) are locked first, as releasing an award
            // locks them before its gates read the hits: a release and a block of the same team serialize, and whichever
            // commits second sees the other (the gate sees the block, or the block sees the released allocation).
            var proposals = await db.ComplianceHitLinks.Where(l => l.HitId == hitId && l.ProposalId != null).Select(l => l.ProposalId!.Value)
                .Union(from l in db.ComplianceHitLinks
                       join a in db.Allocations on l.AllocationId equals a.Id
                       where l.HitId == hitId && a.ProposalId != null
                       select a.ProposalId!.Value)
                .ToListAsync(cancellationToken);
            var proposalIds = proposals.Order().ToArray();
            await db.LockAsync<Proposal>($"SELECT *, xmin FROM proposals WHERE id = ANY({proposalIds}) ORDER BY id FOR UPDATE", cancellationToken);
            var hit = await LoadAsync(hitId, cancellationToken);
            hit.Block(officer, reason, clock.GetUtcNow());
            audit.Record(officer, "compliance.hit-blocked", "compliance-hit", hit.Id.ToString(), $"Blocked on the screening hit on {hit.PartyName}: {hit.Resolution}");
            // Every active allocation of the team: those the hit names, and those of its proposals (an award released
            // after the hit was found is not linked to it yet).
            var linked = db.ComplianceHitLinks.Where(l => l.HitId == hitId && l.AllocationId != null).Select(l => l.AllocationId!.Value);
            var active = await db.Allocations
                .Where(a => a.State == AllocationState.Active && (linked.Contains(a.Id) || (a.ProposalId != null && proposalIds.Contains(a.ProposalId.Value))))
                .Select(a => a.Id).OrderBy(id => id).ToListAsync(cancellationToken);
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

using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>A planned line as the page shows it: the planner's award with the proposal's title and score.</summary>
public sealed record PlanLine(Guid ProposalId, string Title, int Rank, double? Calibrated, PlannedAward Award);

/// <summary>The award plan of a call, and where the hours come from.</summary>
public sealed record CallAwardPlan(IReadOnlyList<PlanLine> Lines, AwardPlan Plan, string? PeriodName, IReadOnlyDictionary<string, string> ClusterNames, string? Problem);

/// <summary>
/// Runs the <see cref="AwardPlanner"/> over a call's calibrated ranking: requested and minimum-viable hours, the
/// screening caps, and what is left per cluster (the lesser of the call's budget and the free capacity of the
/// period the awards start in). Adopting the plan records it as decisions, which the admin can still edit one by
/// one before releasing them.
/// </summary>
public sealed class AwardPlanning(PortalDbContext db, ReviewRanking ranking, ReviewDecisions decisions, CapacityPlanning capacity)
{
    public async Task<CallAwardPlan> BuildAsync(Guid callId, CancellationToken cancellationToken = default)
    {
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == callId, cancellationToken);
        var names = await db.Clusters.AsNoTracking().ToDictionaryAsync(c => c.Id.ToString(), c => c.Name, cancellationToken);
        var period = await db.AllocationPeriods.AsNoTracking()
            .Where(p => p.StartDate <= call.AwardStart && p.EndDate >= call.AwardStart)
            .OrderBy(p => p.StartDate).FirstOrDefaultAsync(cancellationToken);
        var free = period is null
            ? new Dictionary<Guid, decimal>()
            : (await capacity.RowsAsync(period.Id, cancellationToken)).ToDictionary(r => r.ClusterId, r => Math.Max(0, r.Grantable - r.Committed));
        var clusters = call.Clusters
            .Select(c => new PlannerCluster(c.ClusterId.ToString(), names.GetValueOrDefault(c.ClusterId.ToString(), "?"), Math.Min(c.BudgetHours, free.GetValueOrDefault(c.ClusterId))))
            .ToList();

        // Only proposals that were reviewed and have no released decision take part, best calibrated score first.
        var rows = (await ranking.BuildAsync(callId, cancellationToken)).Rows
            .Where(r => r.Calibrated is not null && !r.Released && ProposalStatusSets.Decidable.Contains(r.Status))
            .OrderByDescending(r => r.Calibrated).ThenBy(r => r.ProposalId)
            .ToList();
        var ids = rows.Select(r => r.ProposalId).ToList();
        var minimums = await db.Proposals.AsNoTracking().Where(p => ids.Contains(p.Id))
            .SelectMany(p => p.Requests.Select(r => new { p.Id, r.ClusterId, r.MinimumViableHours }))
            .ToListAsync(cancellationToken);
        var proposals = rows.Select((r, i) => new PlannerProposal(
            r.ProposalId.ToString(),
            i + 1,
            [.. r.Hours.Where(h => h.Requested > 0).Select(h => new ClusterRequest(
                h.ClusterId.ToString(),
                h.Requested,
                Math.Min(h.Requested, minimums.FirstOrDefault(m => m.Id == r.ProposalId && m.ClusterId == h.ClusterId)?.MinimumViableHours ?? 0),
                h.Cap))])).ToList();
        var plan = AwardPlanner.Plan(proposals, clusters);
        var lines = plan.Awards
            .Select(a => rows.Single(r => r.ProposalId.ToString() == a.ProposalId) is var row
                ? new PlanLine(row.ProposalId, row.Title, a.Rank, row.Calibrated, a)
                : throw new InvalidOperationException())
            .OrderBy(l => l.Rank)
            .ToList();
        var problem = period is null
            ? $"No allocation period covers the award start {call.AwardStart:yyyy-MM-dd}: set one up under Capacity, or every proposal is waitlisted."
            : null;
        return new CallAwardPlan(lines, plan, period?.Name, names, problem);
    }

    /// <summary>Records the plan as decisions (awards with the planned hours, the rest waitlisted), all or nothing.</summary>
    public async Task<int> AdoptAsync(Guid callId, Guid admin, CancellationToken cancellationToken = default)
    {
        var built = await BuildAsync(callId, cancellationToken);
        if (built.Lines.Count == 0)
        {
            throw new DomainException("No reviewed proposal is waiting for a decision.");
        }
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        foreach (var line in built.Lines)
        {
            if (line.Award.Outcome == AwardOutcome.Waitlisted)
            {
                await decisions.DecideAsync(line.ProposalId, ProposalDecision.Waitlisted, null, line.Award.Explanation, admin, cancellationToken);
            }
            else
            {
                var hours = line.Award.Clusters.Where(c => c.AwardedHours > 0).Select(c => new AwardedHours(Guid.Parse(c.ClusterId), c.AwardedHours)).ToList();
                await decisions.DecideAsync(line.ProposalId, ProposalDecision.Awarded, hours, "", admin, cancellationToken);
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return built.Lines.Count;
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>Hours on one cluster of a plan line: asked for, and planned (or recorded).</summary>
public sealed record PlanHours(Guid ClusterId, decimal Requested, decimal Hours);

/// <summary>
/// A ranked proposal in the award plan: its recorded decision, kept as it is (<see cref="Recorded"/>), or what the
/// planner proposes (an award or the waitlist), with what it is called and why it differs from the request.
/// </summary>
public sealed record PlanLine(
    Guid ProposalId,
    string Title,
    int Rank,
    double? Calibrated,
    ProposalDecision Decision,
    IReadOnlyList<PlanHours> Hours,
    string Label,
    string Why,
    bool Recorded,
    bool Released);

/// <summary>One cluster of the plan: the call's budget, what recorded decisions hold, what the plan adds, and what is left.</summary>
public sealed record PlanCluster(Guid ClusterId, string Name, decimal Budget, decimal Recorded, decimal Available, decimal Planned, decimal Left, int? ExhaustedAtRank);

/// <summary>The award plan of a call; <see cref="Fingerprint"/> names exactly what adopting it would record.</summary>
public sealed record CallAwardPlan(IReadOnlyList<PlanLine> Lines, IReadOnlyList<PlanCluster> Clusters, string? PeriodName, string? Problem, string Fingerprint)
{
    /// <summary>The lines adopting the plan records: the reviewed proposals without a decision.</summary>
    public IEnumerable<PlanLine> Proposed => Lines.Where(l => !l.Recorded);
}

/// <summary>
/// One award model: the planner proposes, the ranking decides. The plan starts from the call's ranking
/// (<see cref="ReviewRanking"/>): recorded decisions stay as they are (awards hold their hours, declines and the
/// waitlist stay), and each reviewed proposal without a decision is planned, best calibrated score first, at what its
/// review supports (the reviewers' median recommendation within the technical cap: the ranking's default award) within
/// what is left of each cluster (the lesser of the call's budget and the free capacity of the period the awards start
/// in). Adopting the plan records its lines through <see cref="ReviewDecisions.RecordAsync"/>, the path of the ranking page,
/// once: what is decided is never planned again.
/// </summary>
public sealed class AwardPlanning(PortalDbContext db, ReviewRanking ranking, ReviewDecisions decisions, CapacityPlanning capacity)
{
    public async Task<CallAwardPlan> BuildAsync(Guid callId, CancellationToken cancellationToken = default)
    {
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == callId, cancellationToken);
        var names = await db.Clusters.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        var period = await db.AllocationPeriods.AsNoTracking()
            .Where(p => p.StartDate <= call.AwardStart && p.EndDate >= call.AwardStart)
            .OrderBy(p => p.StartDate).FirstOrDefaultAsync(cancellationToken);
        var free = period is null
            ? new Dictionary<Guid, decimal>()
            : (await capacity.RowsAsync(period.Id, cancellationToken)).ToDictionary(r => r.ClusterId, r => Math.Max(0, r.Grantable - r.Committed));

        // What recorded awards of the call hold (an award the PI declined holds nothing); accepted ones are in the period's
        // committed hours already.
        var held = await db.Proposals.AsNoTracking()
            .Where(p => p.CallId == callId && p.Status == ProposalStatus.Decided && p.Decision == ProposalDecision.Awarded && p.AwardResponse != AwardResponse.Declined)
            .SelectMany(p => p.Awards.Select(a => new { a.ClusterId, a.Hours, Accepted = p.AwardResponse == AwardResponse.Accepted }))
            .ToListAsync(cancellationToken);
        var clusters = call.Clusters.Select(c =>
        {
            var recorded = held.Where(h => h.ClusterId == c.ClusterId).Sum(h => h.Hours);
            var unaccepted = held.Where(h => h.ClusterId == c.ClusterId && !h.Accepted).Sum(h => h.Hours);
            var available = Math.Max(0, Math.Min(c.BudgetHours - recorded, free.GetValueOrDefault(c.ClusterId) - unaccepted));
            return (c.ClusterId, Name: names.GetValueOrDefault(c.ClusterId, "?"), c.BudgetHours, Recorded: recorded, Available: available);
        }).ToList();

        var rows = (await ranking.BuildAsync(callId, cancellationToken)).Rows;
        var planned = rows.Where(r => r.Decision is null && r.Calibrated is not null && ProposalStatusSets.InReview.Contains(r.Status)).ToList();
        var ids = planned.Select(r => r.ProposalId).ToList();
        var minimums = (await db.Proposals.AsNoTracking().Where(p => ids.Contains(p.Id))
                .SelectMany(p => p.Requests.Select(r => new { p.Id, r.ClusterId, r.MinimumViableHours }))
                .ToListAsync(cancellationToken))
            .ToDictionary(m => (m.Id, m.ClusterId), m => m.MinimumViableHours);
        var rankOf = rows.Select((r, i) => (r.ProposalId, Rank: i + 1)).ToDictionary(r => r.ProposalId, r => r.Rank);
        var plan = AwardPlanner.Plan(
            planned.Select(r => new PlannerProposal(r.ProposalId.ToString(), rankOf[r.ProposalId],
                [.. r.Hours.Where(h => h.Requested > 0).Select(h => new ClusterRequest(h.ClusterId.ToString(), h.Requested,
                    Math.Min(h.Requested, minimums.GetValueOrDefault((r.ProposalId, h.ClusterId))), h.Cap, h.MedianRecommendation))])),
            clusters.Select(c => new PlannerCluster(c.ClusterId.ToString(), c.Name, c.Available)));
        var proposed = plan.Awards.ToDictionary(a => Guid.Parse(a.ProposalId));

        var lines = new List<PlanLine>();
        foreach (var row in rows.Where(r => r.Decision is not null || proposed.ContainsKey(r.ProposalId)))
        {
            if (proposed.TryGetValue(row.ProposalId, out var award))
            {
                var awarded = award.Outcome != AwardOutcome.Waitlisted;
                lines.Add(new PlanLine(row.ProposalId, row.Title, rankOf[row.ProposalId], row.Calibrated,
                    awarded ? ProposalDecision.Awarded : ProposalDecision.Waitlisted,
                    [.. award.Clusters.Select(c => new PlanHours(Guid.Parse(c.ClusterId), c.RequestedHours, c.AwardedHours))],
                    Label(award.Outcome), award.Explanation, Recorded: false, Released: false));
            }
            else
            {
                var decision = row.Decision!.Value;
                lines.Add(new PlanLine(row.ProposalId, row.Title, rankOf[row.ProposalId], row.Calibrated, decision,
                    [.. row.Hours.Select(h => new PlanHours(h.ClusterId, h.Requested, h.Awarded ?? 0))],
                    decision switch { ProposalDecision.Awarded => "Awarded", ProposalDecision.Waitlisted => "Waitlisted", _ => "Declined" },
                    row.Released ? "Decision recorded and released: kept as it is" : "Decision recorded: kept as it is (change it on the ranking page)",
                    Recorded: true, Released: row.Released));
            }
        }
        var summaries = plan.Clusters.ToDictionary(c => Guid.Parse(c.ClusterId));
        var clusterLines = clusters.Select(c => summaries[c.ClusterId] is var s
            ? new PlanCluster(c.ClusterId, c.Name, c.BudgetHours, c.Recorded, c.Available, s.AwardedHours, s.RemainingHours, s.ExhaustedAtRank)
            : throw new InvalidOperationException()).ToList();
        var problem = period is null
            ? $"No allocation period covers the award start {call.AwardStart:yyyy-MM-dd}: set one up under Capacity, or every proposal is waitlisted."
            : null;
        return new CallAwardPlan(lines, clusterLines, period?.Name, problem, Fingerprint(lines));
    }

    /// <summary>
    /// Records the plan's proposed lines as decisions (awards with the planned hours, the rest waitlisted) through the
    /// ranking's path, all or nothing. <paramref name="fingerprint"/> is the plan the admin looked at: if a review or a
    /// decision changed it since, nothing is recorded and the admin looks again.
    /// </summary>
    public async Task<int> AdoptAsync(Guid callId, string fingerprint, Guid admin, CancellationToken cancellationToken = default)
    {
        // The plan is built again, compared and recorded in one transaction that holds the call's decisions still: a
        // decision another admin records meanwhile either commits first (and the plan no longer matches) or waits.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await decisions.LockDecisionsAsync(callId, cancellationToken);
        var recorded = await AdoptBuiltAsync(callId, fingerprint, admin, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return recorded;
    }

    private async Task<int> AdoptBuiltAsync(Guid callId, string fingerprint, Guid admin, CancellationToken cancellationToken)
    {
        var built = await BuildAsync(callId, cancellationToken);
        var proposed = built.Proposed.ToList();
        if (proposed.Count == 0)
        {
            throw new DomainException("Every reviewed proposal of this call has a decision: there is nothing to adopt. Change a decision on the ranking page.");
        }
        if (!string.Equals(fingerprint, built.Fingerprint, StringComparison.Ordinal))
        {
            throw new DomainException("The plan changed since you opened it (a review or a decision changed): look at it again before adopting it.");
        }
        return await decisions.RecordAsync(callId,
            [.. proposed.Select(l => new DecisionToRecord(l.ProposalId, l.Decision,
                l.Decision == ProposalDecision.Awarded ? [.. l.Hours.Where(h => h.Hours > 0).Select(h => new AwardedHours(h.ClusterId, h.Hours))] : null, ""))],
            admin, cancellationToken);
    }

    private static string Label(AwardOutcome outcome) => outcome switch
    {
        AwardOutcome.FullRequest => "Full request",
        AwardOutcome.AsRecommended => "As recommended",
        AwardOutcome.Partial => "Partial",
        _ => "Waitlisted",
    };

    /// <summary>A short hash of what adopting would record (proposal, decision, hours), in order.</summary>
    private static string Fingerprint(IEnumerable<PlanLine> lines)
    {
        var text = new StringBuilder();
        foreach (var l in lines.Where(l => !l.Recorded))
        {
            text.Append(l.ProposalId).Append(':').Append(l.Decision);
            foreach (var h in l.Hours)
            {
                text.Append(':').Append(h.ClusterId).Append('=').Append(h.Hours.ToString(CultureInfo.InvariantCulture));
            }
            text.Append(';');
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }
}

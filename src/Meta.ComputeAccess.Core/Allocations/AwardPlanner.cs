using System.Globalization;
using Meta.ComputeAccess.Review;

namespace Meta.ComputeAccess.Allocations;

/// <summary>A cluster and the hours still free for this call's awards.</summary>
public sealed record PlannerCluster(string ClusterId, string Name, decimal RemainingHours);

/// <summary>What a proposal asks of one cluster, and what its review says of it.</summary>
/// <param name="MinimumViableHours">Below this the project cannot run on this cluster; 0 means any amount helps.</param>
/// <param name="TechnicalCapHours">The most the technical review judged usable; null for no cap.</param>
/// <param name="RecommendedHours">The reviewers' recommendation (the median of the submitted reviews); null when none recommended.</param>
public sealed record ClusterRequest(string ClusterId, decimal RequestedHours, decimal MinimumViableHours, decimal? TechnicalCapHours = null, decimal? RecommendedHours = null)
{
    /// <summary>
    /// What the review supports: the reviewers' recommendation within the technical cap and the request, exactly the
    /// ranking's default award (<see cref="AwardDefaults"/>).
    /// </summary>
    public decimal TargetHours => AwardDefaults.Hours(RequestedHours, TechnicalCapHours, RecommendedHours is { } r ? [r] : []);
}

/// <summary>A ranked proposal. Rank 1 is the best; equal ranks are ordered by <see cref="ProposalId"/> (ordinal).</summary>
public sealed record PlannerProposal(string ProposalId, int Rank, IReadOnlyList<ClusterRequest> Requests);

public enum AwardOutcome
{
    /// <summary>Everything the proposal asked for.</summary>
    FullRequest,

    /// <summary>What the review supports (<see cref="ClusterRequest.TargetHours"/>), less than the request.</summary>
    AsRecommended,

    /// <summary>Less than the review supports: the cluster's hours ran out.</summary>
    Partial,

    Waitlisted,
}

/// <summary>The planned award of one proposal on one cluster.</summary>
public sealed record ClusterAward(string ClusterId, decimal RequestedHours, decimal AwardedHours, AwardOutcome Outcome, string Explanation);

/// <summary>The planned award of one proposal, its lines in the order of its requests.</summary>
public sealed record PlannedAward(string ProposalId, int Rank, AwardOutcome Outcome, IReadOnlyList<ClusterAward> Clusters, string Explanation);

/// <summary>How a cluster's free hours were used by the plan.</summary>
/// <param name="ExhaustedAtRank">Rank of the proposal that took the last hour, or null if hours are left.</param>
public sealed record ClusterPlanSummary(string ClusterId, string Name, decimal AvailableHours, decimal AwardedHours, decimal RemainingHours, int? ExhaustedAtRank);

/// <summary>Awards in planning order (rank, then proposal id) and what is left on each cluster.</summary>
public sealed record AwardPlan(IReadOnlyList<PlannedAward> Awards, IReadOnlyList<ClusterPlanSummary> Clusters);

/// <summary>
/// Proposes awards for a call from its ranking: a plan for the admin to adopt and edit, not a decision.
/// </summary>
/// <remarks>
/// <para>Proposals are taken in rank order (ties by ordinal proposal id, so the plan does not depend on
/// input order). On each requested cluster the target is what the review supports: the reviewers' median
/// recommendation within the technical cap and the request (<see cref="ClusterRequest.TargetHours"/>, the
/// ranking's default award). A cluster with the target free gives it in full; one with less gives everything
/// it has left, provided that is at least the minimum viable hours (a minimum above the target is lowered to
/// it: the target is the reviewers' judgement, not the applicant's fault); otherwise the cluster cannot
/// serve the proposal. Every line says why it differs from the request.</para>
/// <para>Multi-cluster proposals are all or nothing: if any requested cluster cannot meet its minimum, the
/// whole proposal is waitlisted and takes no hours anywhere, so those hours go to the next proposals.
/// A program manager reads the minimum as "without this much there the project cannot run": an H100
/// training award is no use if the MTIA inference half of the same project is impossible, and granting it
/// anyway would starve a lower-ranked project that could run. An admin who wants the partial project
/// can still edit the line. A cluster whose minimum is 0 never blocks its proposal.</para>
/// <para>Because free hours only shrink as the plan proceeds, a higher-ranked proposal never gets a smaller
/// share than a lower-ranked one asking for the same. Negative remaining capacity counts as 0.</para>
/// </remarks>
public static class AwardPlanner
{
    public static AwardPlan Plan(IEnumerable<PlannerProposal> proposals, IEnumerable<PlannerCluster> clusters)
    {
        ArgumentNullException.ThrowIfNull(proposals);
        ArgumentNullException.ThrowIfNull(clusters);

        var clusterList = clusters.ToList();
        var clusterIndex = new Dictionary<string, int>(clusterList.Count, StringComparer.Ordinal);
        var remaining = new decimal[clusterList.Count];
        var exhaustedAtRank = new int?[clusterList.Count];
        for (var c = 0; c < clusterList.Count; c++)
        {
            if (!clusterIndex.TryAdd(clusterList[c].ClusterId, c))
            {
                throw new ArgumentException($"Cluster {clusterList[c].ClusterId} is listed twice.", nameof(clusters));
            }
            remaining[c] = Math.Max(0m, clusterList[c].RemainingHours);
        }

        var ordered = proposals.ToArray();
        Validate(ordered, clusterIndex);
        Array.Sort(ordered, static (a, b) => a.Rank != b.Rank ? a.Rank.CompareTo(b.Rank) : string.CompareOrdinal(a.ProposalId, b.ProposalId));

        var awards = new PlannedAward[ordered.Length];
        var planned = new decimal[16];
        var targets = new decimal[16];
        for (var p = 0; p < ordered.Length; p++)
        {
            var proposal = ordered[p];
            var requests = proposal.Requests;
            if (planned.Length < requests.Count)
            {
                planned = new decimal[requests.Count];
                targets = new decimal[requests.Count];
            }

            // First pass: what each cluster could give; find a blocking cluster before taking anything.
            var blockedAt = -1;
            for (var r = 0; r < requests.Count && blockedAt < 0; r++)
            {
                var request = requests[r];
                var available = remaining[clusterIndex[request.ClusterId]];
                var target = targets[r] = request.TargetHours;
                var minimum = Math.Min(request.MinimumViableHours, target);
                if (available >= target)
                {
                    planned[r] = target;
                }
                else if (available >= minimum && (available > 0 || minimum == 0))
                {
                    planned[r] = available;
                }
                else if (minimum == 0)
                {
                    planned[r] = 0;
                }
                else
                {
                    blockedAt = r;
                }
            }

            var lines = new ClusterAward[requests.Count];
            if (blockedAt >= 0)
            {
                var blocking = requests[blockedAt];
                var blockingCluster = clusterIndex[blocking.ClusterId];
                var reason = ShortfallReason(clusterList[blockingCluster].Name, remaining[blockingCluster],
                    Math.Min(blocking.MinimumViableHours, blocking.TargetHours), exhaustedAtRank[blockingCluster]);
                for (var r = 0; r < requests.Count; r++)
                {
                    lines[r] = new ClusterAward(requests[r].ClusterId, requests[r].RequestedHours, 0m, AwardOutcome.Waitlisted,
                        r == blockedAt ? $"Waitlisted: {reason}" : $"Waitlisted with the whole proposal: {reason}");
                }
                awards[p] = new PlannedAward(proposal.ProposalId, proposal.Rank, AwardOutcome.Waitlisted, lines, $"Waitlisted: {reason}");
                continue;
            }

            var full = 0;
            var supported = 0;
            var nothing = 0;
            for (var r = 0; r < requests.Count; r++)
            {
                var request = requests[r];
                var c = clusterIndex[request.ClusterId];
                var awarded = planned[r];
                var target = targets[r];
                var before = remaining[c];
                remaining[c] -= awarded;
                if (remaining[c] == 0 && awarded > 0)
                {
                    exhaustedAtRank[c] ??= proposal.Rank;
                }
                AwardOutcome outcome;
                string explanation;
                if (awarded == target && target > 0)
                {
                    outcome = target == request.RequestedHours ? AwardOutcome.FullRequest : AwardOutcome.AsRecommended;
                    full += outcome == AwardOutcome.FullRequest ? 1 : 0;
                    supported++;
                    explanation = outcome == AwardOutcome.FullRequest
                        ? "Full request"
                        : $"{Hours(target)} of {Hours(request.RequestedHours)} requested: {WhyTarget(request)}";
                }
                else if (awarded > 0)
                {
                    outcome = AwardOutcome.Partial;
                    explanation = $"{Percent(awarded, request.RequestedHours)} of request: {clusterList[c].Name} budget exhausted at rank {proposal.Rank}";
                }
                else
                {
                    outcome = AwardOutcome.Waitlisted;
                    nothing++;
                    explanation = target == 0
                        ? $"Waitlisted: {WhyTarget(request)} on {clusterList[c].Name} is 0 h"
                        : $"Waitlisted: {ShortfallReason(clusterList[c].Name, before, request.MinimumViableHours, exhaustedAtRank[c])}";
                }
                lines[r] = new ClusterAward(request.ClusterId, request.RequestedHours, awarded, outcome, explanation);
            }
            var proposalOutcome = full == requests.Count ? AwardOutcome.FullRequest
                : supported == requests.Count ? AwardOutcome.AsRecommended
                : nothing == requests.Count ? AwardOutcome.Waitlisted
                : AwardOutcome.Partial;
            var summary = proposalOutcome == AwardOutcome.FullRequest
                ? "Full request"
                : string.Join("; ", lines.Where(l => l.Outcome != AwardOutcome.FullRequest).Select(l => $"{clusterList[clusterIndex[l.ClusterId]].Name}: {l.Explanation}"));
            awards[p] = new PlannedAward(proposal.ProposalId, proposal.Rank, proposalOutcome, lines, summary);
        }

        var summaries = new ClusterPlanSummary[clusterList.Count];
        for (var c = 0; c < clusterList.Count; c++)
        {
            var available = Math.Max(0m, clusterList[c].RemainingHours);
            summaries[c] = new ClusterPlanSummary(clusterList[c].ClusterId, clusterList[c].Name, available, available - remaining[c], remaining[c], exhaustedAtRank[c]);
        }
        return new AwardPlan(awards, summaries);
    }

    /// <summary>Why the target is below the request: the technical cap when it is the lower bound, else the reviewers.</summary>
    private static string WhyTarget(ClusterRequest request) =>
        request.TechnicalCapHours is { } cap && cap <= (request.RecommendedHours ?? request.RequestedHours)
            ? "the technical cap"
            : "the reviewers' median recommendation";

    private static string ShortfallReason(string clusterName, decimal available, decimal minimum, int? exhaustedAtRank) =>
        (available, minimum, exhaustedAtRank) switch
        {
            (0, 0, { } rank) => $"{clusterName} budget exhausted at rank {rank}",
            (0, 0, null) => $"{clusterName} has no hours left",
            (0, _, { } rank) => $"{clusterName} budget exhausted at rank {rank}, before the {Hours(minimum)} minimum",
            _ => $"{clusterName} has {Hours(available)} left, below the {Hours(minimum)} minimum",
        };

    private static string Hours(decimal hours) => hours.AsHours() + " h";

    /// <summary>Rounded down, so a partial award never reads as 100%.</summary>
    private static string Percent(decimal part, decimal whole)
    {
        var percent = decimal.Floor(part * 100m / whole);
        return percent < 1 ? "<1%" : percent.ToString("0", CultureInfo.InvariantCulture) + "%";
    }

    private static void Validate(PlannerProposal[] proposals, Dictionary<string, int> clusterIndex)
    {
        var ids = new HashSet<string>(proposals.Length, StringComparer.Ordinal);
        var seenClusters = new HashSet<string>(StringComparer.Ordinal);
        foreach (var proposal in proposals)
        {
            ArgumentNullException.ThrowIfNull(proposal, nameof(proposals));
            if (!ids.Add(proposal.ProposalId))
            {
                throw new ArgumentException($"Proposal {proposal.ProposalId} is listed twice.", nameof(proposals));
            }
            if (proposal.Requests.Count == 0)
            {
                throw new ArgumentException($"Proposal {proposal.ProposalId} requests no cluster.", nameof(proposals));
            }
            seenClusters.Clear();
            foreach (var request in proposal.Requests)
            {
                var where = $"Proposal {proposal.ProposalId}, cluster {request.ClusterId}";
                if (!clusterIndex.ContainsKey(request.ClusterId))
                {
                    throw new ArgumentException($"{where}: unknown cluster.", nameof(proposals));
                }
                if (!seenClusters.Add(request.ClusterId))
                {
                    throw new ArgumentException($"{where}: requested twice.", nameof(proposals));
                }
                if (request.RequestedHours <= 0 || request.MinimumViableHours < 0 || request.MinimumViableHours > request.RequestedHours
                    || request.TechnicalCapHours < 0 || request.RecommendedHours < 0)
                {
                    throw new ArgumentException(
                        $"{where}: need 0 <= minimum ({request.MinimumViableHours}) <= request ({request.RequestedHours}), request > 0, cap >= 0 and recommendation >= 0.",
                        nameof(proposals));
                }
            }
        }
    }
}

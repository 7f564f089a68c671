using System.Buffers.Binary;
using Google.OrTools.Graph;

namespace Meta.ComputeAccess.Review;

/// <summary>
/// Optimal reviewer assignment as a min-cost max-flow (OR-Tools SimpleMinCostFlow, exposed to C# as <see cref="MinCostFlow"/>):
/// source → proposal (capacity = required reviewers) → reviewer (capacity 1 per candidate pair, cost
/// −affinity) → sink through one unit arc per load slot, the k-th slot costing weight × (k − 1). Because
/// slot costs rise, the solver fills a reviewer's cheap slots first, which makes load cost convex.
/// <para>
/// Deterministic: proposals, reviewers and pairs are put into the graph in id order, so the input
/// order never matters. Ties between assignments of equal integer cost are broken by a per-pair
/// perturbation derived from the seed; base costs are multiplied by a factor larger than any possible
/// sum of perturbations, so the perturbation never changes the objective, only which optimum is returned.
/// </para>
/// </summary>
public sealed class AssignmentSolver
{
    // Tie-break perturbation values are 0..PerturbationLevels−1 per pair.
    private const long PerturbationLevels = 16;

    // OR-Tools' cost-scaling multiplies arc costs by (node count + 1); stay far from overflow.
    private const double MaxSafeScaledCost = 1L << 56;

    /// <summary>Checks, before solving, which proposals cannot be fully served and whether total capacity suffices.</summary>
    public FeasibilityReport CheckFeasibility(AssignmentProblem problem)
    {
        var graph = Prepare(problem);
        return graph.Feasibility;
    }

    public AssignmentResult Solve(AssignmentProblem problem)
    {
        var g = Prepare(problem);
        var settings = problem.Settings;
        var proposalCount = g.ProposalIds.Length;
        var reviewerCount = g.ReviewerIds.Length;
        var pairCount = g.PairProposal.Length;

        // Integer base costs, shifted so every pair cost is ≥ 0 (every unit of flow crosses exactly one
        // pair arc, so the shift adds the same constant per assigned pair and does not move the optimum).
        var scaled = new long[pairCount];
        var maxScaled = long.MinValue;
        for (var i = 0; i < pairCount; i++)
        {
            scaled[i] = (long)Math.Round(g.PairAffinity[i] * settings.CostScale, MidpointRounding.AwayFromZero);
            maxScaled = Math.Max(maxScaled, scaled[i]);
        }
        if (pairCount == 0)
        {
            maxScaled = 0;
        }
        var maxSlots = 0;
        for (var r = 0; r < reviewerCount; r++)
        {
            maxSlots = Math.Max(maxSlots, g.Slots[r]);
        }
        var slotCost = new long[maxSlots + 1];
        for (var k = 1; k <= maxSlots; k++)
        {
            slotCost[k] = (long)Math.Round(settings.LoadBalancingWeight * settings.CostScale * (k - 1), MidpointRounding.AwayFromZero);
        }

        var maxFlow = Math.Min(g.Feasibility.TotalRequired, g.Feasibility.TotalUsableCapacity);
        var maxBaseCost = 0L;
        for (var i = 0; i < pairCount; i++)
        {
            maxBaseCost = Math.Max(maxBaseCost, maxScaled - scaled[i]);
        }
        maxBaseCost = Math.Max(maxBaseCost, slotCost[maxSlots]);
        var nodeCount = 2 + proposalCount + reviewerCount;
        var multiplier = (PerturbationLevels - 1) * Math.Max(maxFlow, 1) + 1;
        var perturb = ((double)maxBaseCost + 1) * multiplier * (nodeCount + 1) < MaxSafeScaledCost;
        if (!perturb)
        {
            // Too large for the lexicographic trick: fall back to the id order alone for ties.
            multiplier = 1;
        }
        if (((double)maxBaseCost + 1) * multiplier * (nodeCount + 1) >= MaxSafeScaledCost)
        {
            throw new ArgumentOutOfRangeException(nameof(problem), "Affinities × CostScale are too large for integer min-cost flow; lower CostScale.");
        }

        const int source = 0;
        var sink = nodeCount - 1;
        var firstReviewerNode = 1 + proposalCount;
        var slotArcCount = 0;
        for (var r = 0; r < reviewerCount; r++)
        {
            slotArcCount += g.Slots[r];
        }

        using var flow = new MinCostFlow(nodeCount, proposalCount + pairCount + slotArcCount);
        for (var p = 0; p < proposalCount; p++)
        {
            flow.AddArcWithCapacityAndUnitCost(source, 1 + p, g.Required[p], 0);
        }
        var firstPairArc = -1;
        var proposalHash = g.ProposalHash;
        var reviewerHash = g.ReviewerHash;
        var seedHash = Mix((ulong)(uint)settings.Seed ^ 0x5EED5EED5EED5EEDUL);
        long perturbationSum = 0;
        var perturbation = new byte[pairCount];
        for (var i = 0; i < pairCount; i++)
        {
            var p = g.PairProposal[i];
            var r = g.PairReviewer[i];
            long tie = 0;
            if (perturb)
            {
                tie = (long)(Mix(seedHash ^ proposalHash[p] ^ Mix(reviewerHash[r])) % (ulong)PerturbationLevels);
                perturbation[i] = (byte)tie;
            }
            var arc = flow.AddArcWithCapacityAndUnitCost(1 + p, firstReviewerNode + r, 1, (maxScaled - scaled[i]) * multiplier + tie);
            if (i == 0)
            {
                firstPairArc = arc;
            }
        }
        for (var r = 0; r < reviewerCount; r++)
        {
            for (var k = 1; k <= g.Slots[r]; k++)
            {
                flow.AddArcWithCapacityAndUnitCost(firstReviewerNode + r, sink, 1, slotCost[k] * multiplier);
            }
        }
        flow.SetNodeSupply(source, g.Feasibility.TotalRequired);
        flow.SetNodeSupply(sink, -g.Feasibility.TotalRequired);

        // Max flow first, then min cost: a proposal that cannot be fully served still gets what is possible.
        var status = flow.SolveMaxFlowWithMinCost();
        if (status != MinCostFlowBase.Status.OPTIMAL)
        {
            throw new InvalidOperationException($"Min-cost flow solver returned {status}.");
        }

        var assignments = new List<AssignedPair>((int)flow.MaximumFlow());
        var load = new int[reviewerCount];
        var assigned = new int[proposalCount];
        long objective = 0;
        double totalAffinity = 0;
        for (var i = 0; i < pairCount; i++)
        {
            if (flow.Flow(firstPairArc + i) == 0)
            {
                continue;
            }
            var p = g.PairProposal[i];
            var r = g.PairReviewer[i];
            load[r]++;
            assigned[p]++;
            objective -= scaled[i];
            totalAffinity += g.PairAffinity[i];
            perturbationSum += perturbation[i];
            assignments.Add(new AssignedPair(g.ProposalIds[p], g.ReviewerIds[r], g.PairAffinity[i], g.PairReason[i]));
        }
        var loadByReviewer = new Dictionary<Guid, int>(reviewerCount);
        for (var r = 0; r < reviewerCount; r++)
        {
            for (var k = 1; k <= load[r]; k++)
            {
                objective += slotCost[k];
            }
            loadByReviewer[g.ReviewerIds[r]] = load[r];
        }

        // The solver's own cost must match the objective recomputed from the chosen pairs.
        var expected = (objective + maxScaled * assignments.Count) * multiplier + perturbationSum;
        if (flow.OptimalCost() != expected)
        {
            throw new InvalidOperationException($"Solver cost {flow.OptimalCost()} does not match the recomputed cost {expected}.");
        }

        var shortfalls = new List<ProposalShortfall>();
        for (var p = 0; p < proposalCount; p++)
        {
            if (assigned[p] < g.Required[p])
            {
                shortfalls.Add(Shortfall(g.ProposalIds[p], g.Required[p], assigned[p], g.Eligible[p]));
            }
        }

        return new AssignmentResult(assignments, objective, settings.CostScale, totalAffinity, shortfalls, g.Feasibility,
            loadByReviewer, flow.NumNodes(), flow.NumArcs());
    }

    /// <summary>
    /// The objective (same definition as <see cref="AssignmentResult.Objective"/>) of any assignment,
    /// for example one an admin edited, so it can be compared with the optimum.
    /// </summary>
    public long ObjectiveOf(AssignmentProblem problem, IEnumerable<(Guid ProposalId, Guid ReviewerId)> pairs)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(pairs);
        var affinity = new Dictionary<(Guid, Guid), double>();
        foreach (var c in problem.Candidates)
        {
            affinity[(c.ProposalId, c.ReviewerId)] = c.Affinity;
        }
        var loads = new Dictionary<Guid, int>();
        long objective = 0;
        foreach (var pair in pairs)
        {
            if (!affinity.TryGetValue(pair, out var a))
            {
                throw new ArgumentException($"Pair ({pair.ProposalId}, {pair.ReviewerId}) is not a candidate.", nameof(pairs));
            }
            objective -= (long)Math.Round(a * problem.Settings.CostScale, MidpointRounding.AwayFromZero);
            var k = loads.GetValueOrDefault(pair.ReviewerId) + 1;
            loads[pair.ReviewerId] = k;
            objective += (long)Math.Round(problem.Settings.LoadBalancingWeight * problem.Settings.CostScale * (k - 1), MidpointRounding.AwayFromZero);
        }
        return objective;
    }

    private static ProposalShortfall Shortfall(Guid proposalId, int required, int assigned, int eligible) =>
        eligible < required
            ? new ProposalShortfall(proposalId, required, assigned, eligible, ShortfallCause.TooFewEligibleReviewers,
                $"needs {required} reviewers but only {eligible} unconflicted candidate reviewers have capacity; assigned {assigned}")
            : new ProposalShortfall(proposalId, required, assigned, eligible, ShortfallCause.ReviewerCapacityExhausted,
                $"needs {required} reviewers and has {eligible} eligible candidates, but only {assigned} could be assigned before their maximum loads were reached");

    /// <summary>The problem in index form, sorted by id, with conflicts and unusable pairs removed.</summary>
    private sealed class Graph
    {
        public required Guid[] ProposalIds { get; init; }
        public required int[] Required { get; init; }
        public required int[] Eligible { get; init; }
        public required ulong[] ProposalHash { get; init; }
        public required Guid[] ReviewerIds { get; init; }
        public required int[] Slots { get; init; }
        public required ulong[] ReviewerHash { get; init; }
        public required int[] PairProposal { get; init; }
        public required int[] PairReviewer { get; init; }
        public required double[] PairAffinity { get; init; }
        public required string[] PairReason { get; init; }
        public required FeasibilityReport Feasibility { get; init; }
    }

    private static Graph Prepare(AssignmentProblem problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(problem.Proposals);
        ArgumentNullException.ThrowIfNull(problem.Reviewers);
        ArgumentNullException.ThrowIfNull(problem.Candidates);
        ArgumentNullException.ThrowIfNull(problem.Settings);
        if (problem.Settings.CostScale <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(problem), "CostScale must be positive.");
        }
        if (!double.IsFinite(problem.Settings.LoadBalancingWeight) || problem.Settings.LoadBalancingWeight < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(problem), "LoadBalancingWeight must be a finite number ≥ 0.");
        }

        var proposals = problem.Proposals.ToArray();
        Array.Sort(proposals, (a, b) => a.ProposalId.CompareTo(b.ProposalId));
        var reviewers = problem.Reviewers.ToArray();
        Array.Sort(reviewers, (a, b) => a.ReviewerId.CompareTo(b.ReviewerId));
        var proposalIndex = new Dictionary<Guid, int>(proposals.Length);
        for (var i = 0; i < proposals.Length; i++)
        {
            if (proposals[i].RequiredReviewers < 0)
            {
                throw new ArgumentException($"Proposal {proposals[i].ProposalId} requires a negative number of reviewers.", nameof(problem));
            }
            if (!proposalIndex.TryAdd(proposals[i].ProposalId, i))
            {
                throw new ArgumentException($"Proposal {proposals[i].ProposalId} is listed twice.", nameof(problem));
            }
        }
        var reviewerIndex = new Dictionary<Guid, int>(reviewers.Length);
        for (var i = 0; i < reviewers.Length; i++)
        {
            if (reviewers[i].MaxLoad < 0)
            {
                throw new ArgumentException($"Reviewer {reviewers[i].ReviewerId} has a negative maximum load.", nameof(problem));
            }
            if (!reviewerIndex.TryAdd(reviewers[i].ReviewerId, i))
            {
                throw new ArgumentException($"Reviewer {reviewers[i].ReviewerId} is listed twice.", nameof(problem));
            }
        }

        // Sort pairs by (proposal, reviewer) index through one long key: cheaper than comparing Guids 2.5M × log times.
        var candidates = problem.Candidates;
        var keys = new long[candidates.Count];
        var order = new int[candidates.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            var c = candidates[i];
            if (!proposalIndex.TryGetValue(c.ProposalId, out var p))
            {
                throw new ArgumentException($"Candidate pair names unknown proposal {c.ProposalId}.", nameof(problem));
            }
            if (!reviewerIndex.TryGetValue(c.ReviewerId, out var r))
            {
                throw new ArgumentException($"Candidate pair names unknown reviewer {c.ReviewerId}.", nameof(problem));
            }
            if (!c.IsConflict && !double.IsFinite(c.Affinity))
            {
                throw new ArgumentException($"Affinity of ({c.ProposalId}, {c.ReviewerId}) is not a finite number.", nameof(problem));
            }
            keys[i] = (long)p * reviewers.Length + r;
            order[i] = i;
        }
        Array.Sort(keys, order);

        var eligible = new int[proposals.Length];
        var candidateCount = new int[reviewers.Length];
        var usable = 0;
        for (var i = 0; i < keys.Length; i++)
        {
            if (i > 0 && keys[i] == keys[i - 1])
            {
                var c = candidates[order[i]];
                throw new ArgumentException($"Candidate pair ({c.ProposalId}, {c.ReviewerId}) is listed twice.", nameof(problem));
            }
            var p = (int)(keys[i] / reviewers.Length);
            var r = (int)(keys[i] % reviewers.Length);
            if (IsUsable(candidates[order[i]], proposals[p], reviewers[r]))
            {
                eligible[p]++;
                candidateCount[r]++;
                usable++;
            }
        }

        var pairProposal = new int[usable];
        var pairReviewer = new int[usable];
        var pairAffinity = new double[usable];
        var pairReason = new string[usable];
        var n = 0;
        for (var i = 0; i < keys.Length; i++)
        {
            var p = (int)(keys[i] / reviewers.Length);
            var r = (int)(keys[i] % reviewers.Length);
            var c = candidates[order[i]];
            if (IsUsable(c, proposals[p], reviewers[r]))
            {
                pairProposal[n] = p;
                pairReviewer[n] = r;
                pairAffinity[n] = c.Affinity;
                pairReason[n] = c.Reason;
                n++;
            }
        }

        var slots = new int[reviewers.Length];
        var totalCapacity = 0L;
        for (var r = 0; r < reviewers.Length; r++)
        {
            // More load slots than candidate pairs could never be used.
            slots[r] = Math.Min(reviewers[r].MaxLoad, candidateCount[r]);
            totalCapacity += slots[r];
        }
        var totalRequired = 0L;
        var tooFew = new List<ProposalShortfall>();
        for (var p = 0; p < proposals.Length; p++)
        {
            totalRequired += proposals[p].RequiredReviewers;
            if (eligible[p] < proposals[p].RequiredReviewers)
            {
                tooFew.Add(Shortfall(proposals[p].ProposalId, proposals[p].RequiredReviewers, 0, eligible[p]) with
                {
                    Reason = $"needs {proposals[p].RequiredReviewers} reviewers but only {eligible[p]} unconflicted candidate reviewers have capacity",
                });
            }
        }

        return new Graph
        {
            ProposalIds = proposals.Select(p => p.ProposalId).ToArray(),
            Required = proposals.Select(p => p.RequiredReviewers).ToArray(),
            Eligible = eligible,
            ProposalHash = proposals.Select(p => HashOf(p.ProposalId)).ToArray(),
            ReviewerIds = reviewers.Select(r => r.ReviewerId).ToArray(),
            Slots = slots,
            ReviewerHash = reviewers.Select(r => HashOf(r.ReviewerId)).ToArray(),
            PairProposal = pairProposal,
            PairReviewer = pairReviewer,
            PairAffinity = pairAffinity,
            PairReason = pairReason,
            Feasibility = new FeasibilityReport(tooFew, checked((int)totalRequired), checked((int)Math.Min(totalCapacity, int.MaxValue))),
        };
    }

    private static bool IsUsable(CandidatePair candidate, ProposalDemand proposal, ReviewerCapacity reviewer) =>
        !candidate.IsConflict && proposal.RequiredReviewers > 0 && reviewer.MaxLoad > 0;

    /// <summary>A platform-independent hash of an id (string.GetHashCode and HashCode are randomized per process).</summary>
    private static ulong HashOf(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes);
        return Mix(BinaryPrimitives.ReadUInt64LittleEndian(bytes) ^ Mix(BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..])));
    }

    /// <summary>SplitMix64 finalizer.</summary>
    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}

using Meta.ComputeAccess.Review;

namespace Meta.ComputeAccess.Core.Tests.Review;

public sealed class AssignmentSolverTests
{
    private readonly AssignmentSolver _solver = new();

    private static Guid P(int n) => new(n, 1, 0, new byte[8]);

    private static Guid R(int n) => new(n, 2, 0, new byte[8]);

    /// <summary>A random instance; affinities are multiples of 1/1000 so integer scaling is exact.</summary>
    private static AssignmentProblem RandomInstance(int seed, int proposals, int reviewers, int required, Func<Random, int> maxLoad, double conflictRate, AssignmentSettings settings)
    {
        var random = new Random(seed);
        var demands = Enumerable.Range(0, proposals).Select(p => new ProposalDemand(P(p), required)).ToList();
        var pool = Enumerable.Range(0, reviewers).Select(r => new ReviewerCapacity(R(r), maxLoad(random))).ToList();
        var candidates = new List<CandidatePair>();
        for (var p = 0; p < proposals; p++)
        {
            for (var r = 0; r < reviewers; r++)
            {
                var affinity = random.Next(-2000, 3001) / 1000.0;
                candidates.Add(new CandidatePair(P(p), R(r), affinity, $"pair {p}/{r}", random.NextDouble() < conflictRate));
            }
        }
        return new AssignmentProblem(demands, pool, candidates, settings);
    }

    /// <summary>The objective formula written out independently of the solver.</summary>
    private static long Cost(AssignmentProblem problem, IEnumerable<(Guid P, Guid R)> pairs)
    {
        var scale = problem.Settings.CostScale;
        var affinity = problem.Candidates.ToDictionary(c => (c.ProposalId, c.ReviewerId), c => c.Affinity);
        var list = pairs.ToList();
        long cost = -list.Sum(pr => (long)Math.Round(affinity[pr] * scale));
        foreach (var load in list.GroupBy(pr => pr.R).Select(g => g.Count()))
        {
            for (var k = 1; k <= load; k++)
            {
                cost += (long)Math.Round(problem.Settings.LoadBalancingWeight * scale * (k - 1));
            }
        }
        return cost;
    }

    /// <summary>Exhaustive search: most pairs first, then least cost, as the solver's max-flow-min-cost does.</summary>
    private static (int Pairs, long Cost) BruteForce(AssignmentProblem problem)
    {
        var proposals = problem.Proposals.ToArray();
        var maxLoad = problem.Reviewers.ToDictionary(r => r.ReviewerId, r => r.MaxLoad);
        var options = proposals.Select(p =>
        {
            var eligible = problem.Candidates.Where(c => c.ProposalId == p.ProposalId && !c.IsConflict).Select(c => c.ReviewerId).ToArray();
            var subsets = new List<Guid[]>();
            for (var mask = 0; mask < 1 << eligible.Length; mask++)
            {
                var subset = eligible.Where((_, i) => (mask & (1 << i)) != 0).ToArray();
                if (subset.Length <= p.RequiredReviewers)
                {
                    subsets.Add(subset);
                }
            }
            return subsets;
        }).ToArray();

        var best = (Pairs: -1, Cost: long.MaxValue);
        var chosen = new Guid[proposals.Length][];
        void Search(int index)
        {
            if (index == proposals.Length)
            {
                var pairs = proposals.SelectMany((p, i) => chosen[i].Select(r => (p.ProposalId, r))).ToList();
                if (pairs.GroupBy(pr => pr.r).Any(g => g.Count() > maxLoad[g.Key]))
                {
                    return;
                }
                var cost = Cost(problem, pairs);
                if (pairs.Count > best.Pairs || (pairs.Count == best.Pairs && cost < best.Cost))
                {
                    best = (pairs.Count, cost);
                }
                return;
            }
            foreach (var subset in options[index])
            {
                chosen[index] = subset;
                Search(index + 1);
            }
        }
        Search(0);
        return best;
    }

    private static void AssertValid(AssignmentProblem problem, AssignmentResult result)
    {
        var maxLoad = problem.Reviewers.ToDictionary(r => r.ReviewerId, r => r.MaxLoad);
        var required = problem.Proposals.ToDictionary(p => p.ProposalId, p => p.RequiredReviewers);
        var conflicts = problem.Candidates.Where(c => c.IsConflict).Select(c => (c.ProposalId, c.ReviewerId)).ToHashSet();
        Assert.All(result.Assignments, a => Assert.DoesNotContain((a.ProposalId, a.ReviewerId), conflicts));
        Assert.All(result.Assignments.GroupBy(a => a.ReviewerId), g => Assert.True(g.Count() <= maxLoad[g.Key], $"reviewer {g.Key} over load"));
        Assert.All(result.Assignments.GroupBy(a => a.ProposalId), g =>
        {
            Assert.True(g.Count() <= required[g.Key]);
            Assert.Equal(g.Count(), g.Select(a => a.ReviewerId).Distinct().Count());
        });
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(12)]
    public void Objective_equals_the_exhaustive_optimum_on_small_random_instances(int seed)
    {
        // Loads of 2..4 make capacity sometimes binding; 15% conflicts sometimes leave a proposal short.
        var problem = RandomInstance(seed, 5, 4, 2, r => r.Next(2, 5), 0.15, new AssignmentSettings(LoadBalancingWeight: 0.25, CostScale: 1000, Seed: seed));

        var result = _solver.Solve(problem);
        var optimum = BruteForce(problem);

        AssertValid(problem, result);
        Assert.Equal(optimum.Pairs, result.Assignments.Count);
        Assert.Equal(optimum.Cost, result.Objective);
        Assert.Equal(optimum.Cost, Cost(problem, result.Assignments.Select(a => (a.ProposalId, a.ReviewerId))));
    }

    [Fact]
    public void Same_inputs_give_the_same_assignment()
    {
        var problem = RandomInstance(7, 40, 12, 3, r => r.Next(8, 14), 0.05, new AssignmentSettings(Seed: 3));

        var first = _solver.Solve(problem);
        var second = _solver.Solve(problem);

        Assert.Equal(first.Assignments, second.Assignments);
        Assert.Equal(first.Objective, second.Objective);
    }

    [Fact]
    public void Shuffled_input_order_gives_the_same_assignment()
    {
        // Many equal affinities make ties everywhere, so only a canonical order keeps the result stable.
        var problem = RandomInstance(11, 40, 12, 3, r => r.Next(8, 14), 0.05, new AssignmentSettings(Seed: 3));
        problem = problem with { Candidates = problem.Candidates.Select(c => c with { Affinity = Math.Round(c.Affinity) }).ToList() };
        var random = new Random(99);
        var shuffled = problem with
        {
            Proposals = problem.Proposals.OrderBy(_ => random.Next()).ToList(),
            Reviewers = problem.Reviewers.OrderBy(_ => random.Next()).ToList(),
            Candidates = problem.Candidates.OrderBy(_ => random.Next()).ToList(),
        };

        var original = _solver.Solve(problem);
        var reordered = _solver.Solve(shuffled);

        Assert.Equal(original.Assignments, reordered.Assignments);
    }

    [Fact]
    public void The_seed_changes_only_which_tie_is_chosen_never_the_objective()
    {
        var problem = RandomInstance(5, 12, 6, 2, _ => 6, 0, new AssignmentSettings(LoadBalancingWeight: 0.1));
        problem = problem with { Candidates = problem.Candidates.Select(c => c with { Affinity = 1.0 }).ToList() };

        var results = Enumerable.Range(0, 6).Select(seed => _solver.Solve(problem with { Settings = problem.Settings with { Seed = seed } })).ToList();

        Assert.Single(results.Select(r => r.Objective).Distinct());
        Assert.True(results.Select(r => string.Join(";", r.Assignments.Select(a => $"{a.ProposalId}:{a.ReviewerId}"))).Distinct().Count() > 1,
            "different seeds should pick different optima among equal-cost assignments");
    }

    [Fact]
    public void No_reviewer_exceeds_max_load_and_conflicts_are_never_assigned()
    {
        var problem = RandomInstance(21, 60, 15, 3, r => r.Next(5, 20), 0.2, new AssignmentSettings(Seed: 1));
        // A reviewer everyone loves but who accepts only two reviews.
        var star = new ReviewerCapacity(R(100), 2);
        problem = problem with
        {
            Reviewers = [.. problem.Reviewers, star],
            Candidates = [.. problem.Candidates, .. problem.Proposals.Select(p => new CandidatePair(p.ProposalId, star.ReviewerId, 10, "star"))],
        };

        var result = _solver.Solve(problem);

        AssertValid(problem, result);
        Assert.Equal(2, result.LoadByReviewer[star.ReviewerId]);
    }

    [Fact]
    public void Conflict_is_never_assigned_even_when_it_leaves_the_proposal_short()
    {
        var problem = new AssignmentProblem(
            [new ProposalDemand(P(1), 2)],
            [new ReviewerCapacity(R(1), 5), new ReviewerCapacity(R(2), 5), new ReviewerCapacity(R(3), 5)],
            [
                new CandidatePair(P(1), R(1), 3, "eager"),
                new CandidatePair(P(1), R(2), 3, "eager", IsConflict: true),
                new CandidatePair(P(1), R(3), 3, "eager", IsConflict: true),
            ],
            new AssignmentSettings());

        var result = _solver.Solve(problem);

        Assert.Equal(R(1), Assert.Single(result.Assignments).ReviewerId);
        var shortfall = Assert.Single(result.Shortfalls);
        Assert.Equal((P(1), 2, 1, 1, ShortfallCause.TooFewEligibleReviewers), (shortfall.ProposalId, shortfall.Required, shortfall.Assigned, shortfall.EligibleReviewers, shortfall.Cause));
    }

    [Fact]
    public void Proposal_with_too_few_unconflicted_reviewers_is_reported_before_and_after_solving_while_others_are_served()
    {
        var problem = new AssignmentProblem(
            [new ProposalDemand(P(1), 3), new ProposalDemand(P(2), 2)],
            [new ReviewerCapacity(R(1), 5), new ReviewerCapacity(R(2), 5), new ReviewerCapacity(R(3), 5)],
            [
                new CandidatePair(P(1), R(1), 1, "a"),
                new CandidatePair(P(1), R(2), 1, "b", IsConflict: true),
                // Reviewer 3 is not a candidate for P1 at all (e.g. excluded upstream).
                new CandidatePair(P(2), R(1), 1, "c"),
                new CandidatePair(P(2), R(2), 1, "d"),
                new CandidatePair(P(2), R(3), 1, "e"),
            ],
            new AssignmentSettings());

        var before = _solver.CheckFeasibility(problem);
        var result = _solver.Solve(problem);

        var predicted = Assert.Single(before.ProposalsWithTooFewCandidates);
        Assert.Equal((P(1), 1), (predicted.ProposalId, predicted.EligibleReviewers));
        Assert.Contains("only 1 unconflicted", predicted.Reason, StringComparison.Ordinal);
        var shortfall = Assert.Single(result.Shortfalls);
        Assert.Equal((P(1), 1), (shortfall.ProposalId, shortfall.Assigned));
        Assert.Equal(2, result.Assignments.Count(a => a.ProposalId == P(2)));
    }

    [Fact]
    public void Insufficient_total_capacity_is_reported_and_what_fits_is_assigned()
    {
        var proposals = Enumerable.Range(1, 3).Select(p => new ProposalDemand(P(p), 2)).ToList();
        var reviewers = Enumerable.Range(1, 3).Select(r => new ReviewerCapacity(R(r), r == 3 ? 0 : 2)).ToList();
        var candidates = proposals.SelectMany(p => reviewers.Select(r => new CandidatePair(p.ProposalId, r.ReviewerId, 0.5, "willing"))).ToList();
        var problem = new AssignmentProblem(proposals, reviewers, candidates, new AssignmentSettings());

        var result = _solver.Solve(problem);

        Assert.False(result.Feasibility.CapacitySufficient);
        Assert.Equal((6, 4), (result.Feasibility.TotalRequired, result.Feasibility.TotalUsableCapacity));
        Assert.Equal(4, result.Assignments.Count);
        Assert.DoesNotContain(result.Assignments, a => a.ReviewerId == R(3));
        Assert.NotEmpty(result.Shortfalls);
        Assert.All(result.Shortfalls, s => Assert.Equal(ShortfallCause.ReviewerCapacityExhausted, s.Cause));
        Assert.Equal(2, result.Shortfalls.Sum(s => s.Required - s.Assigned));
    }

    [Fact]
    public void Equal_affinities_give_even_loads()
    {
        var proposals = Enumerable.Range(1, 10).Select(p => new ProposalDemand(P(p), 2)).ToList();
        var reviewers = Enumerable.Range(1, 5).Select(r => new ReviewerCapacity(R(r), 10)).ToList();
        var candidates = proposals.SelectMany(p => reviewers.Select(r => new CandidatePair(p.ProposalId, r.ReviewerId, 1.0, "willing"))).ToList();

        var result = _solver.Solve(new AssignmentProblem(proposals, reviewers, candidates, new AssignmentSettings()));

        Assert.All(reviewers, r => Assert.Equal(4, result.LoadByReviewer[r.ReviewerId]));
        Assert.True(result.IsComplete);
    }

    [Fact]
    public void Load_cost_moves_reviews_away_from_a_preferred_reviewer_once_it_outweighs_the_affinity_gain()
    {
        // Reviewer 1 is 0.3 better on every proposal; reviewer 2 and 3 are equal.
        var proposals = Enumerable.Range(1, 6).Select(p => new ProposalDemand(P(p), 1)).ToList();
        var reviewers = Enumerable.Range(1, 3).Select(r => new ReviewerCapacity(R(r), 6)).ToList();
        var candidates = proposals.SelectMany(p => reviewers.Select(r => new CandidatePair(p.ProposalId, r.ReviewerId, r.ReviewerId == R(1) ? 1.3 : 1.0, "x"))).ToList();
        AssignmentProblem With(double weight) => new(proposals, reviewers, candidates, new AssignmentSettings(LoadBalancingWeight: weight));

        var affinityOnly = _solver.Solve(With(0));
        var balanced = _solver.Solve(With(0.1));

        Assert.Equal(6, affinityOnly.LoadByReviewer[R(1)]);
        // With weight 0.1 the k-th review costs 0.1 × (k − 1): reviewer 1 takes reviews while the
        // marginal cost stays below the 0.3 advantage over a reviewer's first review.
        Assert.Equal([4, 1, 1], reviewers.Select(r => balanced.LoadByReviewer[r.ReviewerId]).ToArray());
    }

    [Fact]
    public void Objective_of_an_edited_assignment_is_never_below_the_optimum()
    {
        var problem = RandomInstance(3, 8, 5, 2, _ => 4, 0, new AssignmentSettings());
        var result = _solver.Solve(problem);
        var pairs = result.Assignments.Select(a => (a.ProposalId, a.ReviewerId)).ToList();

        Assert.Equal(result.Objective, _solver.ObjectiveOf(problem, pairs));
        var first = pairs[0];
        var swap = problem.Candidates.First(c => c.ProposalId == first.ProposalId && !pairs.Contains((c.ProposalId, c.ReviewerId)));
        pairs[0] = (swap.ProposalId, swap.ReviewerId);
        Assert.True(_solver.ObjectiveOf(problem, pairs) >= result.Objective);
    }

    [Fact]
    public void Assigned_pairs_carry_their_affinity_and_reason()
    {
        var problem = new AssignmentProblem(
            [new ProposalDemand(P(1), 1)],
            [new ReviewerCapacity(R(1), 1), new ReviewerCapacity(R(2), 1)],
            [new CandidatePair(P(1), R(1), 2.5, "bid eager; 1 shared keyword: llm"), new CandidatePair(P(1), R(2), 0, "no bid; no shared keywords")],
            new AssignmentSettings());

        var pair = Assert.Single(_solver.Solve(problem).Assignments);

        Assert.Equal(new AssignedPair(P(1), R(1), 2.5, "bid eager; 1 shared keyword: llm"), pair);
    }

    [Fact]
    public void Empty_problem_gives_an_empty_assignment()
    {
        var result = _solver.Solve(new AssignmentProblem([], [], [], new AssignmentSettings()));

        Assert.Empty(result.Assignments);
        Assert.Equal(0, result.Objective);
        Assert.True(result.IsComplete);
    }

    [Fact]
    public void A_pair_listed_twice_is_refused()
    {
        var problem = new AssignmentProblem(
            [new ProposalDemand(P(1), 1)],
            [new ReviewerCapacity(R(1), 1)],
            [new CandidatePair(P(1), R(1), 1, "a"), new CandidatePair(P(1), R(1), 1, "a", IsConflict: true)],
            new AssignmentSettings());

        Assert.Throws<ArgumentException>(() => _solver.Solve(problem));
    }
}

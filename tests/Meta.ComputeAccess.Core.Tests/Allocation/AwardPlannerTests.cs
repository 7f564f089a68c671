using Meta.ComputeAccess.Allocations;

namespace Meta.ComputeAccess.Core.Tests.Allocation;

public sealed class AwardPlannerTests
{
    private static readonly PlannerCluster GrandTeton = new("gt", "Grand Teton", 1000m);
    private static readonly PlannerCluster Mtia = new("mtia", "MTIA", 500m);

    private static PlannerProposal Proposal(string id, int rank, params ClusterRequest[] requests) => new(id, rank, requests);

    private static PlannedAward Award(AwardPlan plan, string id) => Assert.Single(plan.Awards, a => a.ProposalId == id);

    [Fact]
    public void A_request_that_fits_is_awarded_in_full()
    {
        var plan = AwardPlanner.Plan([Proposal("p1", 1, new ClusterRequest("gt", 400m, 200m))], [GrandTeton]);

        var line = Assert.Single(Award(plan, "p1").Clusters);
        Assert.Equal((400m, AwardOutcome.FullRequest, "Full request"), (line.AwardedHours, line.Outcome, line.Explanation));
        Assert.Equal(600m, Assert.Single(plan.Clusters).RemainingHours);
    }

    [Fact]
    public void The_proposal_that_exhausts_a_cluster_gets_the_rest_and_is_told_where_the_budget_ran_out()
    {
        var plan = AwardPlanner.Plan(
            [
                Proposal("p1", 1, new ClusterRequest("gt", 280m, 100m)),
                Proposal("p14", 14, new ClusterRequest("gt", 1000m, 500m)),
                Proposal("p15", 15, new ClusterRequest("gt", 100m, 50m)),
            ],
            [GrandTeton]);

        var partial = Assert.Single(Award(plan, "p14").Clusters);
        Assert.Equal((720m, AwardOutcome.Partial), (partial.AwardedHours, partial.Outcome));
        Assert.Equal("72% of request: Grand Teton budget exhausted at rank 14", partial.Explanation);
        var after = Assert.Single(Award(plan, "p15").Clusters);
        Assert.Equal(AwardOutcome.Waitlisted, after.Outcome);
        Assert.Equal("Waitlisted: Grand Teton budget exhausted at rank 14, before the 50 h minimum", after.Explanation);
        Assert.Equal(14, Assert.Single(plan.Clusters).ExhaustedAtRank);
    }

    [Fact]
    public void A_cluster_with_less_than_the_minimum_left_waitlists_the_request()
    {
        var plan = AwardPlanner.Plan(
            [
                Proposal("p1", 1, new ClusterRequest("mtia", 380m, 380m)),
                Proposal("p2", 2, new ClusterRequest("mtia", 600m, 400m)),
                Proposal("p3", 3, new ClusterRequest("mtia", 100m, 100m)),
            ],
            [Mtia]);

        var waitlisted = Assert.Single(Award(plan, "p2").Clusters);
        Assert.Equal((0m, AwardOutcome.Waitlisted), (waitlisted.AwardedHours, waitlisted.Outcome));
        Assert.Equal("Waitlisted: MTIA has 120 h left, below the 400 h minimum", waitlisted.Explanation);
        // The hours the waitlisted proposal could not use go to the next one that fits.
        Assert.Equal(AwardOutcome.FullRequest, Award(plan, "p3").Outcome);
    }

    [Fact]
    public void A_multi_cluster_proposal_is_waitlisted_as_a_whole_when_one_cluster_cannot_meet_its_minimum()
    {
        var plan = AwardPlanner.Plan(
            [
                Proposal("p1", 1, new ClusterRequest("mtia", 380m, 380m)),
                Proposal("p2", 2, new ClusterRequest("gt", 800m, 600m), new ClusterRequest("mtia", 600m, 400m)),
                Proposal("p3", 3, new ClusterRequest("gt", 900m, 900m)),
            ],
            [GrandTeton, Mtia]);

        var blocked = Award(plan, "p2");
        Assert.Equal(AwardOutcome.Waitlisted, blocked.Outcome);
        Assert.All(blocked.Clusters, l => Assert.Equal(0m, l.AwardedHours));
        Assert.Equal("Waitlisted with the whole proposal: MTIA has 120 h left, below the 400 h minimum", blocked.Clusters[0].Explanation);
        Assert.Equal("Waitlisted: MTIA has 120 h left, below the 400 h minimum", blocked.Explanation);
        Assert.Equal(AwardOutcome.FullRequest, Award(plan, "p3").Outcome);
    }

    [Fact]
    public void A_multi_cluster_proposal_can_be_full_on_one_cluster_and_partial_on_another()
    {
        var plan = AwardPlanner.Plan(
            [Proposal("p1", 1, new ClusterRequest("gt", 800m, 600m), new ClusterRequest("mtia", 1000m, 400m))],
            [GrandTeton, Mtia]);

        var award = Award(plan, "p1");
        Assert.Equal(AwardOutcome.Partial, award.Outcome);
        Assert.Equal([800m, 500m], award.Clusters.Select(l => l.AwardedHours));
        Assert.Equal([AwardOutcome.FullRequest, AwardOutcome.Partial], award.Clusters.Select(l => l.Outcome));
        Assert.Equal("MTIA: 50% of request: MTIA budget exhausted at rank 1", award.Explanation);
    }

    [Fact]
    public void The_technical_cap_limits_an_award_which_is_never_called_the_full_request()
    {
        var plan = AwardPlanner.Plan([Proposal("p1", 1, new ClusterRequest("gt", 800m, 500m, TechnicalCapHours: 300m))], [GrandTeton]);

        var line = Assert.Single(Award(plan, "p1").Clusters);
        Assert.Equal((300m, AwardOutcome.AsRecommended), (line.AwardedHours, line.Outcome));
        Assert.Equal("300 h of 800 h requested: the technical cap", line.Explanation);
        Assert.Equal(AwardOutcome.AsRecommended, Award(plan, "p1").Outcome);
    }

    [Fact]
    public void The_reviewers_median_recommendation_within_the_cap_is_the_target_and_each_line_says_why()
    {
        var plan = AwardPlanner.Plan(
            [
                Proposal("median", 1, new ClusterRequest("gt", 400m, 100m, TechnicalCapHours: 350m, RecommendedHours: 250m)),
                Proposal("capped", 2, new ClusterRequest("gt", 400m, 100m, TechnicalCapHours: 300m, RecommendedHours: 380m)),
                Proposal("full", 3, new ClusterRequest("gt", 100m, 100m, RecommendedHours: 100m)),
            ],
            [GrandTeton]);

        var median = Assert.Single(Award(plan, "median").Clusters);
        Assert.Equal((250m, AwardOutcome.AsRecommended, "250 h of 400 h requested: the reviewers' median recommendation"), (median.AwardedHours, median.Outcome, median.Explanation));
        var capped = Assert.Single(Award(plan, "capped").Clusters);
        Assert.Equal((300m, AwardOutcome.AsRecommended, "300 h of 400 h requested: the technical cap"), (capped.AwardedHours, capped.Outcome, capped.Explanation));
        Assert.Equal(AwardOutcome.FullRequest, Award(plan, "full").Outcome);
        // The target is the ranking's default award, computed by the same rule.
        Assert.Equal(Meta.ComputeAccess.Review.AwardDefaults.Hours(400m, 350m, [250m]), median.AwardedHours);
        Assert.Equal(350m, Assert.Single(plan.Clusters).RemainingHours);
    }

    [Fact]
    public void Equal_ranks_are_ordered_by_proposal_id_whatever_the_input_order()
    {
        PlannerProposal[] proposals =
        [
            Proposal("b", 1, new ClusterRequest("gt", 700m, 700m)),
            Proposal("a", 1, new ClusterRequest("gt", 700m, 700m)),
        ];

        var plan = AwardPlanner.Plan(proposals, [GrandTeton]);
        var reversed = AwardPlanner.Plan(proposals.Reverse(), [GrandTeton]);

        Assert.Equal(["a", "b"], plan.Awards.Select(a => a.ProposalId));
        Assert.Equal(AwardOutcome.FullRequest, Award(plan, "a").Outcome);
        Assert.Equal(AwardOutcome.Waitlisted, Award(plan, "b").Outcome);
        Assert.Equal(Flatten(plan), Flatten(reversed));
    }

    [Fact]
    public void A_minimum_of_zero_takes_whatever_is_left_and_never_blocks_the_proposal()
    {
        var plan = AwardPlanner.Plan(
            [
                Proposal("p1", 1, new ClusterRequest("mtia", 500m, 500m)),
                Proposal("p2", 2, new ClusterRequest("gt", 100m, 100m), new ClusterRequest("mtia", 100m, 0m)),
            ],
            [GrandTeton, Mtia]);

        var award = Award(plan, "p2");
        Assert.Equal(AwardOutcome.Partial, award.Outcome);
        Assert.Equal([100m, 0m], award.Clusters.Select(l => l.AwardedHours));
        Assert.Equal("Waitlisted: MTIA budget exhausted at rank 1", award.Clusters[1].Explanation);
    }

    [Fact]
    public void Inconsistent_input_is_refused_with_the_offending_line()
    {
        var minimumAboveRequest = Assert.Throws<ArgumentException>(() =>
            AwardPlanner.Plan([Proposal("p1", 1, new ClusterRequest("gt", 100m, 200m))], [GrandTeton]));
        var unknownCluster = Assert.Throws<ArgumentException>(() =>
            AwardPlanner.Plan([Proposal("p1", 1, new ClusterRequest("nope", 100m, 50m))], [GrandTeton]));
        var duplicate = Assert.Throws<ArgumentException>(() =>
            AwardPlanner.Plan([Proposal("p1", 1, new ClusterRequest("gt", 1m, 1m)), Proposal("p1", 2, new ClusterRequest("gt", 1m, 1m))], [GrandTeton]));

        Assert.Contains("Proposal p1, cluster gt", minimumAboveRequest.Message, StringComparison.Ordinal);
        Assert.Contains("unknown cluster", unknownCluster.Message, StringComparison.Ordinal);
        Assert.Contains("listed twice", duplicate.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_plans_respect_capacity_minimums_rank_order_and_determinism()
    {
        for (var seed = 0; seed < 500; seed++)
        {
            var (proposals, clusters) = RandomCall(new Random(seed));
            var plan = AwardPlanner.Plan(proposals, clusters);
            var shuffled = proposals.ToArray();
            new Random(seed + 10_000).Shuffle(shuffled);

            Assert.True(Flatten(plan).SequenceEqual(Flatten(AwardPlanner.Plan(shuffled, clusters))), $"seed {seed}: plan depends on input order");
            CheckInvariants(seed, proposals, clusters, plan);
        }
    }

    private static void CheckInvariants(int seed, PlannerProposal[] proposals, PlannerCluster[] clusters, AwardPlan plan)
    {
        var byId = proposals.ToDictionary(p => p.ProposalId);
        var finalRemaining = plan.Clusters.ToDictionary(c => c.ClusterId, c => c.RemainingHours);
        foreach (var cluster in clusters)
        {
            var awarded = plan.Awards.SelectMany(a => a.Clusters).Where(l => l.ClusterId == cluster.ClusterId).Sum(l => l.AwardedHours);
            Assert.True(awarded <= Math.Max(0m, cluster.RemainingHours), $"seed {seed}: {cluster.ClusterId} over capacity ({awarded} > {cluster.RemainingHours})");
            Assert.Equal(Math.Max(0m, cluster.RemainingHours) - awarded, finalRemaining[cluster.ClusterId]);
        }

        Assert.Equal(proposals.Length, plan.Awards.Count);
        for (var i = 1; i < plan.Awards.Count; i++)
        {
            var (before, after) = (plan.Awards[i - 1], plan.Awards[i]);
            Assert.True(before.Rank < after.Rank || (before.Rank == after.Rank && string.CompareOrdinal(before.ProposalId, after.ProposalId) < 0),
                $"seed {seed}: awards not in rank order");
        }

        foreach (var award in plan.Awards)
        {
            var requests = byId[award.ProposalId].Requests;
            for (var r = 0; r < requests.Count; r++)
            {
                var (request, line) = (requests[r], award.Clusters[r]);
                // The review's target, worked out independently of the planner: the median within the cap and the request.
                var target = decimal.Round(Math.Min(request.RequestedHours, Math.Min(request.TechnicalCapHours ?? decimal.MaxValue, request.RecommendedHours ?? decimal.MaxValue)), 2);
                var minimum = Math.Min(request.MinimumViableHours, target);
                switch (line.Outcome)
                {
                    case AwardOutcome.FullRequest:
                        Assert.Equal(request.RequestedHours, line.AwardedHours);
                        break;
                    case AwardOutcome.AsRecommended:
                        Assert.True(target == line.AwardedHours && target < request.RequestedHours, $"seed {seed}: {line.AwardedHours} as recommended, target {target}");
                        break;
                    case AwardOutcome.Partial:
                        Assert.True(line.AwardedHours >= minimum && line.AwardedHours > 0 && line.AwardedHours < target,
                            $"seed {seed}: partial {line.AwardedHours} outside [{minimum}, {target})");
                        Assert.True(finalRemaining[request.ClusterId] == 0, $"seed {seed}: a partial award left hours on {request.ClusterId}");
                        break;
                    default:
                        Assert.Equal(0m, line.AwardedHours);
                        break;
                }
            }
            if (award.Outcome == AwardOutcome.Waitlisted)
            {
                // Someone must have been unable to serve it, and free hours only shrink: a cluster that blocked
                // this proposal still has less than the minimum at the end.
                Assert.True(requests.Any(q => finalRemaining[q.ClusterId] < Math.Min(q.MinimumViableHours, q.TargetHours)
                                              || q.TargetHours == 0 || (finalRemaining[q.ClusterId] == 0 && q.MinimumViableHours == 0)),
                    $"seed {seed}: {award.ProposalId} waitlisted although every cluster could meet its minimum");
            }
        }

        // Proposals asking exactly the same: the higher-ranked one never gets a smaller share on any cluster.
        foreach (var group in plan.Awards.GroupBy(a => Signature(byId[a.ProposalId])))
        {
            var inOrder = group.ToList();
            for (var i = 1; i < inOrder.Count; i++)
            {
                for (var r = 0; r < inOrder[i].Clusters.Count; r++)
                {
                    Assert.True(inOrder[i - 1].Clusters[r].AwardedHours >= inOrder[i].Clusters[r].AwardedHours,
                        $"seed {seed}: {inOrder[i - 1].ProposalId} ranked above {inOrder[i].ProposalId} got less on {inOrder[i].Clusters[r].ClusterId}");
                }
            }
        }
    }

    private static string Signature(PlannerProposal proposal) =>
        string.Join(";", proposal.Requests.Select(r => $"{r.ClusterId}:{r.RequestedHours}:{r.MinimumViableHours}:{r.TechnicalCapHours}:{r.RecommendedHours}"));

    private static (PlannerProposal[] Proposals, PlannerCluster[] Clusters) RandomCall(Random random)
    {
        var clusters = Enumerable.Range(0, random.Next(1, 5))
            .Select(c => new PlannerCluster($"c{c}", $"Cluster {c}", random.Next(-50, 4000)))
            .ToArray();
        // A small pool of request shapes so that equal requests at different ranks are common.
        var shapes = Enumerable.Range(0, random.Next(1, 8)).Select(_ =>
        {
            var picked = clusters.Where(_ => random.Next(3) > 0).DefaultIfEmpty(clusters[0]).ToArray();
            return picked.Select(c =>
            {
                decimal request = random.Next(1, 1500);
                decimal minimum = random.Next(4) == 0 ? 0m : decimal.Round(request * (decimal)random.NextDouble(), 1);
                decimal? cap = random.Next(4) == 0 ? random.Next(0, 1500) : null;
                decimal? recommended = random.Next(3) == 0 ? random.Next(0, 1500) : null;
                return new ClusterRequest(c.ClusterId, request, minimum, cap, recommended);
            }).ToArray();
        }).ToArray();
        var proposals = Enumerable.Range(0, random.Next(1, 40))
            .Select(p => new PlannerProposal($"p{p:D3}", random.Next(1, 30), shapes[random.Next(shapes.Length)]))
            .ToArray();
        return (proposals, clusters);
    }

    private static IEnumerable<string> Flatten(AwardPlan plan) =>
        plan.Awards.SelectMany(a => a.Clusters.Select(l => $"{a.ProposalId}|{a.Outcome}|{l.ClusterId}|{l.AwardedHours}|{l.Outcome}|{l.Explanation}"))
            .Concat(plan.Clusters.Select(c => $"{c.ClusterId}|{c.RemainingHours}|{c.ExhaustedAtRank}"));
}

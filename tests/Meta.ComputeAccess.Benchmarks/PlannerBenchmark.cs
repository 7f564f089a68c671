using System.Diagnostics;
using System.Globalization;
using Meta.ComputeAccess.Allocations;

namespace Meta.ComputeAccess.Benchmarks;

/// <summary>Award planner on 10,000 proposals each asking all 10 clusters (the budget in docs/performance.md: ≤ 100 ms, never over capacity).</summary>
public sealed class PlannerBenchmark : IBenchmark
{
    public string Name => "planner";

    public string Description => "award planner, 10,000 proposals x 10 clusters, median of 9 runs";

    public Task<int> RunAsync(string[] args)
    {
        const int proposalCount = 10_000, clusterCount = 10, repetitions = 9;
        var random = new Random(20260301);
        var clusters = Enumerable.Range(0, clusterCount)
            .Select(c => new PlannerCluster($"c{c}", $"Cluster {c}", random.Next(5_000_000, 15_000_000)))
            .ToArray();
        // Every proposal asks every cluster: the worst case of the budget's 10,000 x 10.
        var proposals = Enumerable.Range(0, proposalCount).Select(p => new PlannerProposal(
            $"P-{p:D5}",
            random.Next(1, proposalCount / 2),
            clusters.Select(c =>
            {
                decimal request = random.Next(100, 5_000);
                // Most requests carry the reviewers' median recommendation, as reviewed proposals do.
                return new ClusterRequest(c.ClusterId, request, decimal.Round(request * 0.4m), random.Next(5) == 0 ? request * 0.8m : null,
                    random.Next(4) == 0 ? null : decimal.Round(request * (0.5m + random.Next(60) / 100m)));
            }).ToArray())).ToArray();

        AwardPlan plan = AwardPlanner.Plan(proposals, clusters); // warm-up (JIT)
        var times = new List<double>();
        for (var i = 0; i < repetitions; i++)
        {
            var watch = Stopwatch.StartNew();
            plan = AwardPlanner.Plan(proposals, clusters);
            watch.Stop();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        var median = times[times.Count / 2];

        var overCapacity = plan.Clusters.Count(c => c.AwardedHours > c.AvailableHours);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"planner: {proposalCount:N0} proposals x {clusterCount} clusters ({proposalCount * clusterCount:N0} lines)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  outcomes: full request {plan.Awards.Count(a => a.Outcome == AwardOutcome.FullRequest)}, as recommended {plan.Awards.Count(a => a.Outcome == AwardOutcome.AsRecommended)}, partial {plan.Awards.Count(a => a.Outcome == AwardOutcome.Partial)}, waitlisted {plan.Awards.Count(a => a.Outcome == AwardOutcome.Waitlisted)}; clusters over capacity: {overCapacity}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  median {median:F1} ms, min {times[0]:F1} ms, max {times[^1]:F1} ms over {repetitions} runs (budget 100 ms)"));
        return Task.FromResult(median <= 100 && overCapacity == 0 ? 0 : 1);
    }
}

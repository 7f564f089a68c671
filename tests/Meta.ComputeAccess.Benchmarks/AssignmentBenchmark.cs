using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using Meta.ComputeAccess.Review;

namespace Meta.ComputeAccess.Benchmarks;

/// <summary>
/// Reviewer auto-assignment at the budgeted size: 5,000 proposals × 500 reviewers × 3 reviews,
/// every pair a candidate except ~2% conflicts, max load 35. Budget (docs/performance.md): ≤ 3 s per solve on the 2-core dev machine.
/// Options: --proposals N --reviewers N --reviews N --max-load N --reps N --seed N.
/// </summary>
public sealed class AssignmentBenchmark : IBenchmark
{
    private const int Vocabulary = 64;

    public string Name => "assignment";

    public string Description => "min-cost-flow reviewer assignment, 5,000 proposals x 500 reviewers x 3 reviews";

    public Task<int> RunAsync(string[] args)
    {
        var proposals = Option(args, "--proposals", 5000);
        var reviewers = Option(args, "--reviewers", 500);
        var reviews = Option(args, "--reviews", 3);
        var maxLoad = Option(args, "--max-load", 35);
        var reps = Option(args, "--reps", 3);
        var seed = Option(args, "--seed", 20250101);

        var generate = Stopwatch.StartNew();
        var problem = Generate(proposals, reviewers, reviews, maxLoad, seed);
        generate.Stop();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"instance: {proposals} proposals x {reviewers} reviewers x {reviews} reviews, max load {maxLoad}, {problem.Candidates.Count:N0} candidate pairs ({problem.Candidates.Count(c => c.IsConflict):N0} conflicts), generated in {generate.Elapsed.TotalSeconds:F2} s"));

        var solver = new AssignmentSolver();
        var times = new List<double>();
        AssignmentResult? result = null;
        for (var rep = 0; rep < reps; rep++)
        {
            var watch = Stopwatch.StartNew();
            result = solver.Solve(problem);
            watch.Stop();
            times.Add(watch.Elapsed.TotalSeconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rep {rep + 1}: {watch.Elapsed.TotalSeconds:F2} s (build + solve + extract), objective {result.Objective}"));
        }
        if (result is null)
        {
            return Task.FromResult(0);
        }

        times.Sort();
        var loads = result.LoadByReviewer.Values;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median {times[times.Count / 2]:F2} s, min {times[0]:F2} s over {reps} reps; graph {result.NodeCount:N0} nodes, {result.ArcCount:N0} arcs"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"objective {result.Objective} ({result.ObjectiveValue:F3}), assigned {result.Assignments.Count:N0}, mean affinity {result.TotalAffinity / Math.Max(1, result.Assignments.Count):F3}, load min/max {loads.Min()}/{loads.Max()}, shortfalls {result.Shortfalls.Count}"));
        return Task.FromResult(0);
    }

    /// <summary>Random but fixed instance: keyword sets as bit masks of a 64-word vocabulary, affinity as in <see cref="AffinityModel"/>'s defaults.</summary>
    private static AssignmentProblem Generate(int proposalCount, int reviewerCount, int reviews, int maxLoad, int seed)
    {
        var random = new Random(seed);
        var settings = new AffinitySettings();
        var proposals = new ProposalDemand[proposalCount];
        var proposalKeywords = new ulong[proposalCount];
        for (var p = 0; p < proposalCount; p++)
        {
            proposals[p] = new ProposalDemand(IdFor(random), reviews);
            proposalKeywords[p] = RandomKeywords(random, 3 + random.Next(3));
        }
        var reviewers = new ReviewerCapacity[reviewerCount];
        var reviewerKeywords = new ulong[reviewerCount];
        for (var r = 0; r < reviewerCount; r++)
        {
            reviewers[r] = new ReviewerCapacity(IdFor(random), maxLoad);
            reviewerKeywords[r] = RandomKeywords(random, 4 + random.Next(5));
        }

        // Reasons repeat across pairs; cache them so the instance does not hold 2.5M distinct strings.
        var reasons = new Dictionary<(Bid?, int), string>();
        var candidates = new CandidatePair[proposalCount * reviewerCount];
        var n = 0;
        for (var p = 0; p < proposalCount; p++)
        {
            for (var r = 0; r < reviewerCount; r++)
            {
                var roll = random.NextDouble();
                if (roll < 0.02)
                {
                    candidates[n++] = new CandidatePair(proposals[p].ProposalId, reviewers[r].ReviewerId, 0, "conflict", IsConflict: true);
                    continue;
                }
                // Most pairs carry no bid: reviewers bid on a few dozen proposals, not thousands.
                Bid? bid = random.Next(100) switch
                {
                    < 2 => Bid.Eager,
                    < 6 => Bid.Willing,
                    < 8 => Bid.Unwilling,
                    < 20 => Bid.Neutral,
                    _ => null,
                };
                var shared = BitOperations.PopCount(proposalKeywords[p] & reviewerKeywords[r]);
                var union = BitOperations.PopCount(proposalKeywords[p] | reviewerKeywords[r]);
                var bidWeight = bid switch
                {
                    Bid.Eager => settings.Eager,
                    Bid.Willing => settings.Willing,
                    Bid.Unwilling => settings.Unwilling,
                    _ => settings.Neutral,
                };
                var affinity = bidWeight + settings.KeywordWeight * shared / union;
                if (!reasons.TryGetValue((bid, shared), out var reason))
                {
                    reason = $"{(bid is null ? "no bid" : "bid " + bid.Value.ToString().ToLowerInvariant())}; {shared} shared keywords";
                    reasons[(bid, shared)] = reason;
                }
                candidates[n++] = new CandidatePair(proposals[p].ProposalId, reviewers[r].ReviewerId, affinity, reason);
            }
        }
        return new AssignmentProblem(proposals, reviewers, candidates, new AssignmentSettings(Seed: seed));
    }

    private static ulong RandomKeywords(Random random, int count)
    {
        ulong mask = 0;
        while (BitOperations.PopCount(mask) < count)
        {
            mask |= 1UL << random.Next(Vocabulary);
        }
        return mask;
    }

    private static Guid IdFor(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}

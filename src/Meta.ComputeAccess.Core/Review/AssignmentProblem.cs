namespace Meta.ComputeAccess.Review;

/// <summary>A proposal to be reviewed and how many distinct reviewers it needs.</summary>
public sealed record ProposalDemand(Guid ProposalId, int RequiredReviewers);

/// <summary>A reviewer in the pool and the most reviews they accept.</summary>
public sealed record ReviewerCapacity(Guid ReviewerId, int MaxLoad);

/// <summary>
/// A (proposal, reviewer) pair the solver may use, with its affinity (higher is better) and the
/// explanation shown to the admin. A pair marked <paramref name="IsConflict"/> is never assigned;
/// a pair that is not listed at all is not assigned either.
/// </summary>
public readonly record struct CandidatePair(Guid ProposalId, Guid ReviewerId, double Affinity, string Reason, bool IsConflict = false);

/// <summary>
/// <para><paramref name="LoadBalancingWeight"/>: the k-th review of one reviewer costs
/// <c>weight × (k − 1)</c> affinity units more than their first, so the total load cost is convex and
/// loads spread out. With the default 0.05, a reviewer's 21st review costs one bid step (eager → willing) more than their first.</para>
/// <para><paramref name="CostScale"/>: affinities and load costs are multiplied by this and rounded to
/// integers for the min-cost-flow solver; differences smaller than 1/CostScale are ties.</para>
/// <para><paramref name="Seed"/>: only breaks ties among assignments of exactly equal (integer) cost,
/// through a lexicographically smaller perturbation that can never outweigh one unit of real cost.</para>
/// </summary>
public sealed record AssignmentSettings(double LoadBalancingWeight = 0.05, int CostScale = 1000, int Seed = 0);

public sealed record AssignmentProblem(
    IReadOnlyList<ProposalDemand> Proposals,
    IReadOnlyList<ReviewerCapacity> Reviewers,
    IReadOnlyList<CandidatePair> Candidates,
    AssignmentSettings Settings);

/// <summary>One chosen pair, with the affinity and reason it was chosen on.</summary>
public sealed record AssignedPair(Guid ProposalId, Guid ReviewerId, double Affinity, string Reason);

public enum ShortfallCause
{
    /// <summary>Fewer unconflicted candidate reviewers (with capacity) than reviewers required.</summary>
    TooFewEligibleReviewers,

    /// <summary>Enough candidates exist, but their maximum loads were used up by other proposals.</summary>
    ReviewerCapacityExhausted,
}

/// <summary>A proposal that did not (or, before solving, cannot) get all the reviewers it needs.</summary>
public sealed record ProposalShortfall(Guid ProposalId, int Required, int Assigned, int EligibleReviewers, ShortfallCause Cause, string Reason);

/// <summary>
/// What can be told before solving: proposals with too few eligible reviewers, and whether the pool's
/// total usable capacity covers the total demand.
/// </summary>
public sealed record FeasibilityReport(
    IReadOnlyList<ProposalShortfall> ProposalsWithTooFewCandidates,
    int TotalRequired,
    int TotalUsableCapacity)
{
    public bool CapacitySufficient => TotalUsableCapacity >= TotalRequired;
}

/// <summary>
/// The assignment, ordered by proposal id then reviewer id.
/// <para><see cref="Objective"/> is the minimized cost in integer units of 1/CostScale:
/// Σ over assigned pairs of −round(affinity × scale) plus Σ over reviewers of Σ_{k=1..load} round(weight × scale × (k − 1)).
/// It is the exact optimum among assignments with the maximum possible number of pairs.</para>
/// </summary>
public sealed record AssignmentResult(
    IReadOnlyList<AssignedPair> Assignments,
    long Objective,
    int CostScale,
    double TotalAffinity,
    IReadOnlyList<ProposalShortfall> Shortfalls,
    FeasibilityReport Feasibility,
    IReadOnlyDictionary<Guid, int> LoadByReviewer,
    int NodeCount,
    int ArcCount)
{
    public double ObjectiveValue => (double)Objective / CostScale;

    public bool IsComplete => Shortfalls.Count == 0;
}

using Meta.ComputeAccess.Review;

namespace Meta.ComputeAccess.Proposals;

/// <summary>
/// The review module's rows about a proposal, as navigations for its visibility scopes (<see cref="ReviewVisibility"/>).
/// Internal and query-only: they are never loaded with the proposal, whose aggregate stays the proposal module's.
/// </summary>
public sealed partial class Proposal
{
    private readonly List<ProposalReview> reviews = [];
    private readonly List<ReviewConflict> conflicts = [];

    /// <summary>The assignments (and the reviews written for them).</summary>
    internal IReadOnlyCollection<ProposalReview> Reviews => reviews;

    /// <summary>Conflicts of interest with reviewers, in force or not.</summary>
    internal IReadOnlyCollection<ReviewConflict> Conflicts => conflicts;
}

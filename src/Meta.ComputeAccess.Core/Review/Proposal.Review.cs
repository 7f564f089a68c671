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

    /// <summary>Notes in the history that the team responded to the reviews (the response itself is a <see cref="ReviewResponse"/>).</summary>
    internal void RecordResponse(Guid actor, DateTimeOffset now) =>
        history.Add(new ProposalHistoryEntry(Id, now, actor, Status, Status, "Response to the reviews submitted"));

    /// <summary>Notes in the history that the team appealed the released decision.</summary>
    internal void RecordAppealFiled(Guid actor, DateTimeOffset now) =>
        history.Add(new ProposalHistoryEntry(Id, now, actor, Status, Status, "Appeal of the decision filed"));

    /// <summary>Notes in the history how an admin decided the team's appeal, and why.</summary>
    internal void RecordAppealDecided(bool upheld, string reason, Guid admin, DateTimeOffset now) =>
        history.Add(new ProposalHistoryEntry(Id, now, admin, Status, Status, (upheld ? "Appeal upheld: " : "Appeal dismissed: ") + reason));
}

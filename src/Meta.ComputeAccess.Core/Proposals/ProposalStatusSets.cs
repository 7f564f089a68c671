namespace Meta.ComputeAccess.Proposals;

/// <summary>
/// The named groups of <see cref="ProposalStatus"/> that rules and queries speak of ("in review", "decidable"), defined
/// once so that every page and module means the same states. Usable in EF queries (<c>Decidable.Contains(p.Status)</c>).
/// </summary>
public static class ProposalStatusSets
{
    /// <summary>Submitted and not screened yet, or being screened: the admins' screening queue.</summary>
    public static readonly IReadOnlyList<ProposalStatus> AwaitingScreening = [ProposalStatus.Submitted, ProposalStatus.Screening];

    /// <summary>From submission until the review ends: reviewers in the call's pool may bid.</summary>
    public static readonly IReadOnlyList<ProposalStatus> Biddable = [ProposalStatus.Submitted, ProposalStatus.Screening, ProposalStatus.InReview];

    /// <summary>Submitted and not decided yet (nor withdrawn): conflicts of interest are checked for these.</summary>
    public static readonly IReadOnlyList<ProposalStatus> Undecided =
        [ProposalStatus.Submitted, ProposalStatus.Screening, ProposalStatus.InReview, ProposalStatus.ReviewsComplete];

    /// <summary>In review: reviewers are assigned and unassigned, and reviews are written and changed.</summary>
    public static readonly IReadOnlyList<ProposalStatus> InReview = [ProposalStatus.InReview, ProposalStatus.ReviewsComplete];

    /// <summary>
    /// Sent to review: in review or decided since. These are ranked and decided (a recorded decision changes until it is
    /// released), and their assigned reviewers keep reading them.
    /// </summary>
    public static readonly IReadOnlyList<ProposalStatus> Decidable = [ProposalStatus.InReview, ProposalStatus.ReviewsComplete, ProposalStatus.Decided];
}

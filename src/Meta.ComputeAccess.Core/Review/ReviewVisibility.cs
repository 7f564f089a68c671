using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;

namespace Meta.ComputeAccess.Review;

/// <summary>
/// Who may see what in review, in one place (HotCRP style). Every reviewer-facing page and list reads through these
/// queries, so a conflicted reviewer finds the proposal nowhere: not in bids, not in assignments, not in other reviews,
/// and its URLs answer 404 like a proposal that does not exist.
/// <list type="bullet">
/// <item>A conflict that is not cleared hides the proposal from that reviewer, whatever else holds.</item>
/// <item>A reviewer bids on proposals of calls whose pool they are in, from submission until review ends.</item>
/// <item>A reviewer opens a proposal (content, attachments, the review form) only when assigned to it.</item>
/// <item>A reviewer reads other reviews of a proposal only after submitting their own, and never learns who wrote them.</item>
/// <item>Applicants read the comments meant for them, without names, once the decision is released.</item>
/// <item>The team is hidden from reviewers in double-blind calls.</item>
/// </list>
/// Admins see everything through the admin pages (folder policy).
/// </summary>
public static class ReviewVisibility
{
    private static readonly ProposalStatus[] Biddable = [ProposalStatus.Submitted, ProposalStatus.Screening, ProposalStatus.InReview];

    private static readonly ProposalStatus[] Reviewable = [ProposalStatus.InReview, ProposalStatus.ReviewsComplete, ProposalStatus.Decided];

    /// <summary>Proposal ids the reviewer is conflicted with (any conflict not cleared by an admin).</summary>
    public static IQueryable<Guid> ConflictedProposalIds(this PortalDbContext db, Guid reviewer) =>
        db.ReviewConflicts.Where(c => c.ReviewerUserId == reviewer && c.Status != ConflictStatus.Cleared).Select(c => c.ProposalId);

    /// <summary>Proposals of <paramref name="callId"/> the reviewer may bid on.</summary>
    public static IQueryable<Proposal> BiddableBy(this PortalDbContext db, Guid reviewer, Guid callId) =>
        db.Proposals.Where(p => p.CallId == callId
            && Biddable.Contains(p.Status)
            && db.ReviewerPool.Any(m => m.CallId == callId && m.UserId == reviewer)
            && !p.Members.Any(m => m.UserId == reviewer)
            && !db.ConflictedProposalIds(reviewer).Contains(p.Id));

    /// <summary>Proposals the reviewer may open and review: assigned to them, in or past review, not conflicted.</summary>
    public static IQueryable<Proposal> AssignedTo(this PortalDbContext db, Guid reviewer) =>
        db.Proposals.Where(p => Reviewable.Contains(p.Status)
            && db.Reviews.Any(r => r.ProposalId == p.Id && r.ReviewerUserId == reviewer)
            && !p.Members.Any(m => m.UserId == reviewer)
            && !db.ConflictedProposalIds(reviewer).Contains(p.Id));

    /// <summary>The reviewer's own reviews, on proposals they may still see.</summary>
    public static IQueryable<ProposalReview> OwnReviews(this PortalDbContext db, Guid reviewer) =>
        db.Reviews.Where(r => r.ReviewerUserId == reviewer && db.AssignedTo(reviewer).Any(p => p.Id == r.ProposalId));

    /// <summary>
    /// Other reviewers' submitted reviews of <paramref name="proposalId"/> that the reviewer may read: none until their own is
    /// submitted. Project these without <see cref="ProposalReview.ReviewerUserId"/>: identities are never shown.
    /// </summary>
    public static IQueryable<ProposalReview> OtherReviewsVisibleTo(this PortalDbContext db, Guid reviewer, Guid proposalId) =>
        db.Reviews.Where(r => r.ProposalId == proposalId
            && r.ReviewerUserId != reviewer
            && r.SubmittedAt != null
            && db.OwnReviews(reviewer).Any(own => own.ProposalId == proposalId && own.SubmittedAt != null));

    /// <summary>Submitted reviews whose applicant comments the team may read: only after the decision is released.</summary>
    public static IQueryable<ProposalReview> ReviewsVisibleToApplicant(this PortalDbContext db, Guid member, Guid proposalId) =>
        db.Reviews.Where(r => r.ProposalId == proposalId
            && r.SubmittedAt != null
            && db.Proposals.VisibleTo(Viewer.Applicant(member)).Any(p => p.Id == proposalId && p.DecisionReleasedAt != null));

    /// <summary>Whether reviewers see the team (names, institutions) of a call's proposals.</summary>
    public static bool ShowsTeamToReviewers(Calls.ReviewMode mode) => mode == Calls.ReviewMode.SingleBlind;
}

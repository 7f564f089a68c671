using System.Linq.Expressions;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore.Query;

namespace Meta.ComputeAccess.Review;

/// <summary>
/// Who may see what in review, in one place (HotCRP style): <see cref="IQueryable"/> scopes applied before anything is
/// loaded (<c>db.Proposals.AssignedTo(reviewer)</c>, <c>db.Reviews.OwnedBy(reviewer)</c>). Every reviewer-facing page and
/// list reads through them, so a conflicted reviewer finds the proposal nowhere: not in bids, not in assignments, not in
/// other reviews, and its URLs answer 404 like a proposal that does not exist.
/// <list type="bullet">
/// <item>A conflict that is not cleared hides the proposal from that reviewer, whatever else holds; so does being on its team.
/// In double-blind calls bidding is the one exception (<see cref="BiddableBy"/>): there only the reviewer's own declaration hides it.</item>
/// <item>A reviewer bids on proposals of calls whose pool they are in, from submission until review ends.</item>
/// <item>A reviewer opens a proposal (content, attachments, the review form) only when assigned to it.</item>
/// <item>A reviewer reads other reviews of a proposal only after submitting their own, and never learns who wrote them.</item>
/// <item>Applicants read the comments meant for them, without names, once the decision is released or the call's response phase opened.</item>
/// <item>The team is hidden from reviewers in double-blind calls.</item>
/// </list>
/// Admins see everything through the admin pages (folder policy).
/// </summary>
public static class ReviewVisibility
{
    /// <summary>
    /// Proposals the pool member may bid on: of their call, from submission until review ends, not their team's, and
    /// not conflicted. Taking the pool membership (not a user id) is the rule that only reviewers in a call's pool bid on
    /// its proposals. In a double-blind call only the reviewer's own conflict bid hides a proposal here: detected
    /// conflicts follow from what the reviewer can change (their institution, address, declared collaborators), so a
    /// list that shrank with them would tell the reviewer who wrote what. Those conflicts bind at assignment, and hide
    /// the proposal everywhere else (<see cref="AssignedTo"/>).
    /// </summary>
    public static IQueryable<Proposal> BiddableBy(this IQueryable<Proposal> proposals, ReviewerPoolMember member, Calls.ReviewMode mode)
    {
        ArgumentNullException.ThrowIfNull(member);
        var callId = member.CallId;
        var reviewer = member.UserId;
        var biddable = proposals.Where(p => p.CallId == callId && ProposalStatusSets.Biddable.Contains(p.Status));
        return ShowsTeamToReviewers(mode)
            ? biddable.Where(NotConflicted(reviewer))
            : biddable.Where(p => !p.Members.Any(m => m.UserId == reviewer)
                && !p.Conflicts.Any(c => c.ReviewerUserId == reviewer && c.Source == ConflictSource.SelfDeclared));
    }

    /// <summary>Proposals the reviewer may open and review: assigned to them, sent to review, not conflicted.</summary>
    public static IQueryable<Proposal> AssignedTo(this IQueryable<Proposal> proposals, Guid reviewer) =>
        proposals.Where(p => ProposalStatusSets.Decidable.Contains(p.Status) && p.Reviews.Any(r => r.ReviewerUserId == reviewer)).Where(NotConflicted(reviewer));

    /// <summary>The reviewer's own reviews, on proposals they may still see (<see cref="AssignedTo"/>).</summary>
    public static IQueryable<ProposalReview> OwnedBy(this IQueryable<ProposalReview> reviews, Guid reviewer) =>
        reviews.Where(r => r.ReviewerUserId == reviewer && ProposalStatusSets.Decidable.Contains(r.Proposal.Status))
            .Where(OfProposal(NotConflicted(reviewer)));

    /// <summary>
    /// Other reviewers' submitted reviews that the reviewer may read: none of a proposal until their own review of it is
    /// submitted. Project these without <see cref="ProposalReview.ReviewerUserId"/>: identities are never shown.
    /// </summary>
    public static IQueryable<ProposalReview> OthersVisibleTo(this IQueryable<ProposalReview> reviews, Guid reviewer) =>
        reviews.Where(r => r.ReviewerUserId != reviewer && r.SubmittedAt != null && ProposalStatusSets.Decidable.Contains(r.Proposal.Status)
                && r.Proposal.Reviews.Any(own => own.ReviewerUserId == reviewer && own.SubmittedAt != null))
            .Where(OfProposal(NotConflicted(reviewer)));

    /// <summary>
    /// Submitted reviews whose comments for applicants a team member may read: once the decision is released, or, in a
    /// call whose response phase has opened, once all of the proposal's reviews are in (so the team can respond).
    /// </summary>
    public static IQueryable<ProposalReview> VisibleToApplicant(this IQueryable<ProposalReview> reviews, Guid member) =>
        reviews.Where(r => r.SubmittedAt != null && r.Proposal.Members.Any(m => m.UserId == member)
            && (r.Proposal.DecisionReleasedAt != null || (r.Call.ResponseOpenedAt != null && r.Proposal.Status != ProposalStatus.InReview)));

    /// <summary>Whether reviewers see the team (names, institutions) of a call's proposals.</summary>
    public static bool ShowsTeamToReviewers(Calls.ReviewMode mode) => mode == Calls.ReviewMode.SingleBlind;

    /// <summary>The reviewer is not on the proposal's team and has no conflict with it that an admin has not cleared.</summary>
    private static Expression<Func<Proposal, bool>> NotConflicted(Guid reviewer) =>
        p => !p.Members.Any(m => m.UserId == reviewer) && !p.Conflicts.Any(c => c.ReviewerUserId == reviewer && c.Status != ConflictStatus.Cleared);

    /// <summary>A rule about a proposal, applied to a review's proposal.</summary>
    private static Expression<Func<ProposalReview, bool>> OfProposal(Expression<Func<Proposal, bool>> rule)
    {
        Expression<Func<ProposalReview, Proposal>> proposal = r => r.Proposal;
        return Expression.Lambda<Func<ProposalReview, bool>>(ReplacingExpressionVisitor.Replace(rule.Parameters[0], proposal.Body, rule.Body), proposal.Parameters);
    }
}

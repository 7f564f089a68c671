using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Review;

/// <summary>What a save did: nothing (the reviewer may not see the proposal: 404), a draft, a submission, or a revision.</summary>
public enum ReviewSaved
{
    NotVisible,
    Draft,
    Submitted,
    Revised,
}

/// <summary>
/// A reviewer saves or submits their review. The first submission moves the proposal on: once every assigned review
/// is in, it is reviewed (<see cref="ProposalStatus.ReviewsComplete"/>). Once the call's response phase has opened, a
/// change to a submitted review is a revision with a reason (<see cref="ProposalReview.Revise"/>). <see cref="SaveAsync"/> saves.
/// </summary>
public sealed class ReviewWriting(PortalDbContext db, TimeProvider clock)
{
    /// <summary>The reviewer's own review of the proposal (tracked), or null when they may not see it.</summary>
    public Task<ProposalReview?> FindOwnAsync(Guid proposalId, Guid reviewer, CancellationToken cancellationToken) =>
        db.Reviews.OwnedBy(reviewer).Include(r => r.Scores).Include(r => r.Recommendations).AsSplitQuery()
            .SingleOrDefaultAsync(r => r.ProposalId == proposalId, cancellationToken);

    /// <summary>The rubric, requested hours and technical caps a review of <paramref name="proposalId"/> is checked against.</summary>
    public async Task<ReviewLimits> LimitsAsync(Guid proposalId, CancellationToken cancellationToken)
    {
        var proposal = await db.Proposals.AsNoTracking().Include(p => p.Requests).SingleAsync(p => p.Id == proposalId, cancellationToken);
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == proposal.CallId, cancellationToken);
        var caps = await db.Screenings.AsNoTracking().Where(s => s.ProposalId == proposalId).SelectMany(s => s.Caps).ToListAsync(cancellationToken);
        return new ReviewLimits(
            [.. call.Rubric.OrderBy(c => c.Position).Select(c => c.Id)],
            proposal.Requests.ToDictionary(r => r.ClusterId, r => r.RequestedHours),
            caps.ToDictionary(c => c.ClusterId, c => c.Hours));
    }

    /// <summary>Saves a draft, or submits (a revision once the response phase opened), saved.</summary>
    public Task<ReviewSaved> SaveAsync(Guid proposalId, Guid reviewer, ReviewContent content, bool submit, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var review = await FindOwnAsync(proposalId, reviewer, cancellationToken);
        if (review is null)
        {
            return ReviewSaved.NotVisible;
        }
        var proposal = await db.Proposals.SingleAsync(p => p.Id == proposalId, cancellationToken);
        var call = await db.Calls.Where(c => c.Id == proposal.CallId).Select(c => new { c.ReviewDeadline, c.ResponseOpenedAt }).SingleAsync(cancellationToken);
        var limits = await LimitsAsync(proposalId, cancellationToken);
        var phaseOpen = ProposalStatusSets.InReview.Contains(proposal.Status);
        var now = clock.GetUtcNow();
        if (!submit)
        {
            if (review.IsSubmitted)
            {
                throw new DomainException("This review is submitted: save changes with “Update submitted review”, which checks it is still complete.");
            }
            review.SaveDraft(content, limits, phaseOpen, now);
            return ReviewSaved.Draft;
        }
        if (review.IsSubmitted && call.ResponseOpenedAt is not null)
        {
            // After the applicants could respond, a change is a revision: its reason and the score before it are kept.
            db.ReviewRevisions.Add(review.Revise(content, limits, content.RevisionReason, phaseOpen, now));
            return ReviewSaved.Revised;
        }
        if (review.Submit(content, limits, call.ReviewDeadline, phaseOpen, now))
        {
            var others = await db.Reviews.Where(r => r.ProposalId == proposalId && r.Id != review.Id).Select(r => r.SubmittedAt != null).ToListAsync(cancellationToken);
            proposal.RecordReviewSubmitted(others.Count(s => s) + 1, others.Count + 1, reviewer, now);
        }
        return ReviewSaved.Submitted;
    }, cancellationToken);
}

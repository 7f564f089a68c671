using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Review;

/// <summary>Reviewers' bids. A conflict bid also records a self-declared conflict, which hides the proposal from them.</summary>
public sealed class Bidding(PortalDbContext db, ReviewerPool pool, TimeProvider clock)
{
    /// <summary>
    /// Places or changes a bid, saved; false when the proposal is not one the reviewer may bid on (not in the call's pool,
    /// or <see cref="ReviewVisibility.BiddableBy"/> hides it): the page answers 404.
    /// </summary>
    public Task<bool> PlaceAsync(Guid callId, Guid proposalId, Guid reviewer, Bid bid, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var member = await db.ReviewerPool.AsNoTracking().SingleOrDefaultAsync(m => m.CallId == callId && m.UserId == reviewer, cancellationToken);
        var mode = await db.Calls.Where(c => c.Id == callId).Select(c => c.ReviewMode).SingleOrDefaultAsync(cancellationToken);
        if (member is null || !await db.Proposals.BiddableBy(member, mode).AnyAsync(p => p.Id == proposalId, cancellationToken))
        {
            return false;
        }
        var now = clock.GetUtcNow();
        var existing = await db.ReviewBids.SingleOrDefaultAsync(b => b.ProposalId == proposalId && b.ReviewerUserId == reviewer, cancellationToken);
        if (existing is null)
        {
            db.ReviewBids.Add(ReviewBid.Place(callId, proposalId, reviewer, bid, now));
        }
        else
        {
            existing.Change(bid, now);
        }
        if (bid == Bid.Conflict)
        {
            await pool.AddDeclaredConflictAsync(proposalId, reviewer, "conflict bid", cancellationToken);
        }
        return true;
    }, cancellationToken);
}

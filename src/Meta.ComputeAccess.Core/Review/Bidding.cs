using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Review;

/// <summary>Reviewers' bids. A conflict bid also records a self-declared conflict, which hides the proposal from them.</summary>
public sealed class Bidding(PortalDbContext db, ReviewerPool pool, TimeProvider clock)
{
    /// <summary>Places or changes a bid; false when the proposal is not one the reviewer may bid on (the page answers 404).</summary>
    public async Task<bool> PlaceAsync(Guid callId, Guid proposalId, Guid reviewer, Bid bid, CancellationToken cancellationToken)
    {
        if (!await db.BiddableBy(reviewer, callId).AnyAsync(p => p.Id == proposalId, cancellationToken))
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
            await pool.DeclareConflictAsync(proposalId, reviewer, "conflict bid", cancellationToken);
        }
        return true;
    }
}

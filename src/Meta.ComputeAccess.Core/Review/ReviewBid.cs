namespace Meta.ComputeAccess.Review;

/// <summary>A reviewer's bid on a proposal of a call they review for. A <see cref="Bid.Conflict"/> bid also records a self-declared conflict.</summary>
public sealed class ReviewBid
{
    public Guid CallId { get; private set; }

    public Guid ProposalId { get; private set; }

    public Guid ReviewerUserId { get; private set; }

    public Bid Bid { get; private set; }

    public DateTimeOffset UpdatedAt { get; private set; }

    private ReviewBid()
    {
    }

    public static ReviewBid Place(Guid callId, Guid proposalId, Guid reviewer, Bid bid, DateTimeOffset now) =>
        new() { CallId = callId, ProposalId = proposalId, ReviewerUserId = reviewer, Bid = bid, UpdatedAt = now };

    public void Change(Bid bid, DateTimeOffset now)
    {
        Bid = bid;
        UpdatedAt = now;
    }
}

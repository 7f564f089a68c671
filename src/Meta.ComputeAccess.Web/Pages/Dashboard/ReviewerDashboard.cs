using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Dashboard;

/// <summary>A review assigned to the reviewer: its state and due date.</summary>
/// <param name="Started">A draft was saved (the review changed after it was assigned).</param>
public sealed record AssignmentTodo(Guid ProposalId, string Title, string CallTitle, bool Submitted, bool Started, DateTimeOffset? Due)
{
    public string State => Submitted ? "Submitted" : Started ? "Draft saved" : "Not started";

    public bool IsOverdue(DateTimeOffset now) => !Submitted && Due is { } due && due < now;
}

/// <summary>A call whose pool the reviewer is in while its proposals can be bid on, with how many they have bid on.</summary>
public sealed record BiddingTodo(string Slug, string CallTitle, int Proposals, int BidOn, DateTimeOffset? ReviewDeadline)
{
    public int Left => Proposals - BidOn;
}

/// <summary>A team's response to the reviews of a proposal the reviewer reviewed, which they have not opened since it came in.</summary>
public sealed record ResponseTodo(Guid ProposalId, string Title, string CallTitle, DateTimeOffset SubmittedAt);

/// <summary>
/// The reviewer's to-do list: assigned reviews (to do first, by due date), the applicants' responses to their submitted
/// reviews not read yet (<see cref="ReviewResponses.MarkReadAsync"/>) and calls open for bidding, read through the
/// review module's scopes (<see cref="ReviewVisibility.OwnedBy"/>, <see cref="ReviewVisibility.BiddableBy"/>), so a
/// conflicted proposal appears nowhere.
/// </summary>
public sealed record ReviewerDashboard(IReadOnlyList<AssignmentTodo> Assignments, IReadOnlyList<BiddingTodo> Bidding, IReadOnlyList<ResponseTodo> Responses)
{
    /// <summary>Calls in these states take bids (from submission until review ends, <see cref="ReviewVisibility.BiddableBy"/>).</summary>
    private static readonly CallStatus[] BiddingCalls = [CallStatus.Open, CallStatus.Closed];

    public int ToDo => Assignments.Count(a => !a.Submitted);

    public static async Task<ReviewerDashboard> LoadAsync(PortalDbContext db, Guid me, CancellationToken cancellationToken)
    {
        var assignments = await (from r in db.Reviews.OwnedBy(me).AsNoTracking()
                                 join p in db.Proposals on r.ProposalId equals p.Id
                                 join c in db.Calls on r.CallId equals c.Id
                                 select new AssignmentTodo(p.Id, p.Title, c.Title, r.SubmittedAt != null, r.UpdatedAt > r.AssignedAt, c.ReviewDeadline))
                                .ToListAsync(cancellationToken);

        var responses = await (from r in db.Reviews.OwnedBy(me).AsNoTracking()
                               where r.SubmittedAt != null && r.ResponseReadAt == null
                               join x in db.ReviewResponses on r.ProposalId equals x.ProposalId
                               join p in db.Proposals on r.ProposalId equals p.Id
                               join c in db.Calls on r.CallId equals c.Id
                               orderby x.SubmittedAt
                               select new ResponseTodo(p.Id, p.Title, c.Title, x.SubmittedAt))
                              .ToListAsync(cancellationToken);

        var pools = await (from m in db.ReviewerPool.AsNoTracking()
                           join c in db.Calls on m.CallId equals c.Id
                           where m.UserId == me && BiddingCalls.Contains(c.Status)
                           orderby c.Title
                           select new { Member = m, c.Slug, c.Title, c.ReviewDeadline, c.ReviewMode })
                          .ToListAsync(cancellationToken);
        var bidding = new List<BiddingTodo>();
        foreach (var pool in pools)
        {
            // A reviewer is in few pools: one count per call, through the scope that decides what they may bid on.
            var counts = await db.Proposals.AsNoTracking().BiddableBy(pool.Member, pool.ReviewMode)
                .GroupBy(_ => 1)
                .Select(g => new { Total = g.Count(), BidOn = g.Count(p => db.ReviewBids.Any(b => b.ProposalId == p.Id && b.ReviewerUserId == me)) })
                .SingleOrDefaultAsync(cancellationToken);
            if (counts is { Total: > 0 })
            {
                bidding.Add(new BiddingTodo(pool.Slug, pool.Title, counts.Total, counts.BidOn, pool.ReviewDeadline));
            }
        }
        return new ReviewerDashboard(
            [.. assignments.OrderBy(a => a.Submitted).ThenBy(a => a.Due ?? DateTimeOffset.MaxValue).ThenBy(a => a.Title, StringComparer.CurrentCulture)],
            bidding,
            responses);
    }
}

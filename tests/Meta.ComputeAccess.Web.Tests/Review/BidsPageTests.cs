using System.Net;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Review;

/// <summary>Reviewers' bids on /Reviews/{slug}/Bids.</summary>
public sealed class BidsPageTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    [Fact]
    public async Task A_conflict_bid_hides_the_proposal_and_only_the_calls_pool_bids()
    {
        var s = await steps.ClosedCallAsync("bid-call", "pi@cove.example.edu", "Cove University");
        var id = s.Proposals[0];
        var bidder = await steps.ReviewerAsync(s, "bidder@tokai.example.ac.jp", "Tokai");
        var outsider = await steps.ReviewerAsync(s, "outsider@north.example.edu", "North", addToPool: false);
        await using var db = factory.NewDbContext();
        var bidderId = await db.Users.Where(u => u.Email == "bidder@tokai.example.ac.jp").Select(u => u.Id).SingleAsync();
        var outsiderId = await db.Users.Where(u => u.Email == "outsider@north.example.edu").Select(u => u.Id).SingleAsync();
        async Task<HttpStatusCode> BidAsync(Bid bid)
        {
            using var response = await bidder.PostFormAsync($"/Reviews/{s.Slug}/Bids", new Dictionary<string, string> { ["bid"] = bid.ToString() },
                $"/Reviews/{s.Slug}/Bids?handler=Bid&proposalId={id}");
            return response.StatusCode;
        }

        // A submitted proposal, not screened yet, is open for bids.
        Assert.Contains("Proposal 1 of bid-call", await bidder.GetPageAsync($"/Reviews/{s.Slug}/Bids"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, await BidAsync(Bid.Eager));
        Assert.Equal(Bid.Eager, await db.ReviewBids.Where(b => b.ProposalId == id && b.ReviewerUserId == bidderId).Select(b => b.Bid).SingleAsync());

        // A conflict bid records a self-declared conflict, and the proposal is gone from the reviewer's list and handlers.
        Assert.Equal(HttpStatusCode.Redirect, await BidAsync(Bid.Conflict));
        var conflict = await db.ReviewConflicts.SingleAsync(c => c.ProposalId == id && c.ReviewerUserId == bidderId);
        Assert.Equal((ConflictSource.SelfDeclared, ConflictStatus.Confirmed), (conflict.Source, conflict.Status));
        Assert.DoesNotContain("Proposal 1 of bid-call", await bidder.GetPageAsync($"/Reviews/{s.Slug}/Bids"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, await BidAsync(Bid.Eager));
        db.ChangeTracker.Clear();
        Assert.Equal(Bid.Conflict, await db.ReviewBids.Where(b => b.ProposalId == id && b.ReviewerUserId == bidderId).Select(b => b.Bid).SingleAsync());

        // A reviewer outside the call's pool has no bidding page, and the bidding service refuses them too.
        using (var page = await outsider.GetAsync($"/Reviews/{s.Slug}/Bids"))
        {
            Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        }
        Assert.False(await factory.WithScopeAsync(sp => sp.GetRequiredService<Bidding>().PlaceAsync(s.CallId, id, outsiderId, Bid.Eager, default)));
        Assert.False(await db.ReviewBids.AnyAsync(b => b.ReviewerUserId == outsiderId));
    }
}

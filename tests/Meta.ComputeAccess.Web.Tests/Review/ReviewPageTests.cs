using System.Net;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Review;

/// <summary>The review form /Reviews/Review/{id}: who may open it, reviews written and submitted, other reviews, declared conflicts.</summary>
public sealed class ReviewPageTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    [Fact]
    public async Task Conflicted_and_unassigned_reviewers_and_other_researchers_get_404_on_proposal_review_and_attachment_urls()
    {
        var s = await steps.ClosedCallAsync("hidden-call", "owner@harbour.example.edu", "Harbour University");
        var id = s.Proposals[0];
        await ReviewSteps.ScreenPassAsync(s, id);
        var assigned = await steps.ReviewerAsync(s, "assigned@tokai.example.ac.jp", "Tokai");
        var conflicted = await steps.ReviewerAsync(s, "conflicted@harbour.example.edu", "Harbour University");
        var unassigned = await steps.ReviewerAsync(s, "unassigned@north.example.edu", "North");
        var later = await steps.ReviewerAsync(s, "later@south.example.edu", "South");
        await steps.AssignAsync(s, id, "assigned@tokai.example.ac.jp");
        await steps.AssignAsync(s, id, "later@south.example.edu");
        await using var db = factory.NewDbContext();
        var attachmentId = await db.ProposalAttachments.Where(a => a.ProposalId == id).Select(a => a.Id).SingleAsync();

        // The assigned reviewer can open everything, so the 404s below are about visibility, not broken URLs.
        Assert.Contains("Proposal 1 of hidden-call", await assigned.GetPageAsync($"/Reviews/Review/{id}"), StringComparison.Ordinal);
        using (var ok = await assigned.GetAsync($"/Reviews/Attachment/{id}/{attachmentId}"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // Assigning the conflicted reviewer by hand is refused.
        var conflictedId = await db.Users.Where(u => u.Email == "conflicted@harbour.example.edu").Select(u => u.Id).SingleAsync();
        using (var refused = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Assignment", new Dictionary<string, string> { ["proposalId"] = id.ToString(), ["reviewerId"] = conflictedId.ToString() }, $"/Admin/Calls/{s.Slug}/Assignment?handler=Assign"))
        {
            Assert.Contains("conflict of interest", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // A reviewer who declares a conflict after assignment loses access at once.
        using (var declared = await later.PostFormAsync($"/Reviews/Review/{id}", new Dictionary<string, string> { ["reason"] = "former student" }, $"/Reviews/Review/{id}?handler=Conflict"))
        {
            Assert.Equal(HttpStatusCode.Redirect, declared.StatusCode);
        }

        var urls = new[] { $"/Reviews/Review/{id}", $"/Reviews/Attachment/{id}/{attachmentId}", $"/Proposals/Details/{id}", $"/Proposals/Attachment/{id}/{attachmentId}" };
        foreach (var client in new[] { conflicted, unassigned, later })
        {
            await ReviewSteps.AssertNotFoundAsync(client, urls);
            var bids = await client.GetPageAsync($"/Reviews/{s.Slug}/Bids");
            var reviews = await client.GetPageAsync("/Reviews");
            if (client != unassigned)
            {
                Assert.DoesNotContain("Proposal 1 of hidden-call", bids, StringComparison.Ordinal);
            }
            Assert.DoesNotContain("Proposal 1 of hidden-call", reviews, StringComparison.Ordinal);
        }
        // The form handlers answer 404 too, with a valid antiforgery token from the reviewer's own page.
        using (var post = await conflicted.PostFormAsync($"/Reviews/{s.Slug}/Bids", ReviewSteps.CompleteReview(s, "sneaky review of a conflicted proposal"), $"/Reviews/Review/{id}?handler=Submit"))
        {
            Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        }

        await factory.CreateUserAsync("other-researcher@example.edu");
        using var researcher = new PortalClient(factory);
        await researcher.SignInAsync("other-researcher@example.edu");
        await ReviewSteps.AssertNotFoundAsync(researcher, $"/Proposals/Details/{id}", $"/Proposals/Attachment/{id}/{attachmentId}");
        // Review URLs are behind the Reviewer role: a researcher is turned away the same way whatever the id.
        using var review = await researcher.GetAsync($"/Reviews/Review/{id}");
        using var random = await researcher.GetAsync($"/Reviews/Review/{Guid.NewGuid()}");
        Assert.NotEqual(HttpStatusCode.OK, review.StatusCode);
        Assert.Equal(random.StatusCode, review.StatusCode);
    }

    [Fact]
    public async Task A_reviewer_reads_other_reviews_only_after_submitting_and_never_their_authors()
    {
        var (s, id, first, second) = await steps.InReviewAsync("blind-call", "author@river.example.edu", "River University", "first.reviewer@tokai.example.ac.jp", "second.reviewer@north.example.edu");

        using (var submitted = await first.PostFormAsync($"/Reviews/Review/{id}", ReviewSteps.CompleteReview(s, "The first reviewer's careful remarks on the method."), $"/Reviews/Review/{id}?handler=Submit"))
        {
            Assert.Equal(HttpStatusCode.Redirect, submitted.StatusCode);
        }
        var before = await second.GetPageAsync($"/Reviews/Review/{id}");
        Assert.DoesNotContain("careful remarks", before, StringComparison.Ordinal);

        // An incomplete submission is refused with messages beside the fields and saves nothing as submitted.
        var incomplete = ReviewSteps.CompleteReview(s, "short");
        incomplete.Remove("Input.Overall");
        using (var refused = await second.PostFormAsync($"/Reviews/Review/{id}", incomplete, $"/Reviews/Review/{id}?handler=Submit"))
        {
            var html = await refused.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            Assert.Contains("Give an overall score from 1 to 10.", html, StringComparison.Ordinal);
            Assert.Contains("Write comments for the applicants", html, StringComparison.Ordinal);
        }
        using (var submitted = await second.PostFormAsync($"/Reviews/Review/{id}", ReviewSteps.CompleteReview(s, "The second view: sound but expensive.", 5), $"/Reviews/Review/{id}?handler=Submit"))
        {
            Assert.Equal(HttpStatusCode.Redirect, submitted.StatusCode);
        }
        var after = await second.GetPageAsync($"/Reviews/Review/{id}");
        Assert.Contains("careful remarks", after, StringComparison.Ordinal);
        Assert.Contains("Reviewer 1", after, StringComparison.Ordinal);
        Assert.DoesNotContain("first.reviewer", after, StringComparison.Ordinal);
        Assert.DoesNotContain("confidential note 7", after, StringComparison.Ordinal);

        await using var db = factory.NewDbContext();
        Assert.Equal(ProposalStatus.ReviewsComplete, await db.Proposals.Where(p => p.Id == id).Select(p => p.Status).SingleAsync());
    }

    [Fact]
    public async Task A_reviewer_declaring_a_conflict_drops_their_review_and_the_others_being_in_completes_the_proposal()
    {
        var (s, id, done, leaving) = await steps.InReviewAsync("late-conflict-call", "pi@quay.example.edu", "Quay University", "done@tokai.example.ac.jp", "leaving@north.example.edu");
        using (var submitted = await done.PostFormAsync($"/Reviews/Review/{id}", ReviewSteps.CompleteReview(s, "Reviewer says: a solid and well argued plan."), $"/Reviews/Review/{id}?handler=Submit"))
        {
            Assert.Equal(HttpStatusCode.Redirect, submitted.StatusCode);
        }
        using (var declared = await leaving.PostFormAsync($"/Reviews/Review/{id}", new Dictionary<string, string> { ["reason"] = "I advised the PI last year." }, $"/Reviews/Review/{id}?handler=Conflict"))
        {
            Assert.Equal(HttpStatusCode.Redirect, declared.StatusCode);
        }
        await using var db = factory.NewDbContext();
        Assert.Equal(ProposalStatus.ReviewsComplete, await db.Proposals.Where(p => p.Id == id).Select(p => p.Status).SingleAsync());
        Assert.Equal(1, await db.Reviews.CountAsync(r => r.ProposalId == id));
    }
}

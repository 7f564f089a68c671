using System.Net;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Review;

/// <summary>Screening one proposal on /Admin/Proposals/Screen/{id}.</summary>
public sealed class ScreeningPageTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    [Fact]
    public async Task A_refused_screening_saves_nothing_and_a_screened_proposal_is_no_longer_screened()
    {
        var s = await steps.ClosedCallAsync("screen-call", "pi@fjord.example.edu", "Fjord University");
        var id = s.Proposals[0];

        // A cap on a cluster the proposal did not ask for is refused beside the form; the proposal stays submitted.
        using (var refused = await s.Admin.PostFormAsync($"/Admin/Proposals/Screen/{id}", new Dictionary<string, string>
        {
            ["Input.Eligible"] = "true", ["Input.Technical"] = "0", ["Input.TechnicalNote"] = "",
            ["Input.Caps[0].ClusterId"] = Guid.NewGuid().ToString(), ["Input.Caps[0].Hours"] = "100",
        }))
        {
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            Assert.Contains("A technical cap names a cluster the proposal did not ask for.", ReviewSteps.ProblemOf(await refused.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        await using var db = factory.NewDbContext();
        Assert.Equal(ProposalStatus.Submitted, await db.Proposals.Where(p => p.Id == id).Select(p => p.Status).SingleAsync());
        Assert.False(await db.Screenings.AnyAsync(x => x.ProposalId == id));
        Assert.False(await db.ProposalHistory.AnyAsync(h => h.ProposalId == id && h.ToStatus == ProposalStatus.Screening));

        await ReviewSteps.ScreenPassAsync(s, id);
        Assert.Equal(ProposalStatus.InReview, await db.Proposals.Where(p => p.Id == id).Select(p => p.Status).SingleAsync());
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "review.screened" && a.SubjectId == id.ToString()));
        // Screened once: the form and its handler answer 404 like a proposal that does not exist.
        await ReviewSteps.AssertNotFoundAsync(s.Admin, $"/Admin/Proposals/Screen/{id}");
        using var again = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Reviewers", new Dictionary<string, string> { ["Input.Eligible"] = "true", ["Input.Technical"] = "0" },
            $"/Admin/Proposals/Screen/{id}");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task The_screening_form_comes_with_no_outcome_chosen_and_a_post_without_one_screens_nothing()
    {
        var s = await steps.ClosedCallAsync("screen-blank", "pi@blank.example.edu", "Blank University");
        var id = s.Proposals[0];

        var form = await s.Admin.GetPageAsync($"/Admin/Proposals/Screen/{id}");
        Assert.DoesNotMatch("<input[^>]*name=\"Input.Eligible\"[^>]*checked", form);
        Assert.DoesNotMatch("<option[^>]*selected[^>]*>", form);

        using (var blank = await s.Admin.PostFormAsync($"/Admin/Proposals/Screen/{id}", new Dictionary<string, string> { ["Input.TechnicalNote"] = "" }))
        {
            Assert.Equal(HttpStatusCode.OK, blank.StatusCode);
            var html = await blank.Content.ReadAsStringAsync();
            Assert.Contains("Say whether the proposal is eligible.", html, StringComparison.Ordinal);
            Assert.Contains("Choose the outcome of the technical check.", html, StringComparison.Ordinal);
        }
        await using var db = factory.NewDbContext();
        Assert.Equal(ProposalStatus.Submitted, await db.Proposals.Where(p => p.Id == id).Select(p => p.Status).SingleAsync());
        Assert.False(await db.Screenings.AnyAsync(x => x.ProposalId == id));
    }
}

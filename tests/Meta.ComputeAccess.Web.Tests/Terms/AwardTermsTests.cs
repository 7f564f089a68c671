using System.Text.Json;
using System.Net;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Terms;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Tests.Review;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Terms;

/// <summary>A call's award terms, accepted by the PI with the award (a class of its own: no terms of use here to ask first).</summary>
public sealed class AwardTermsTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    private static Task<HttpResponseMessage> PublishAsync(PortalClient admin, string text, string summary, Guid callId) => TermsTests.PublishAsync(admin, text, summary, callId);

    [Fact]
    public async Task The_pi_accepts_the_calls_award_terms_with_the_award()
    {
        var (s, id) = await steps.AwardedAsync("terms-award", "pi@terms-award.example.edu", "Award University", "ta-");
        using (var published = await PublishAsync(s.Admin, "Outputs are published openly; acknowledge the program.", "", s.CallId))
        {
            Assert.Equal(HttpStatusCode.Redirect, published.StatusCode);
        }
        await ReviewSteps.ReleaseAsync(s);
        await using var db = factory.NewDbContext();
        var terms = await db.TermsDocuments.AsNoTracking().SingleAsync(d => d.CallId == s.CallId);
        Assert.Equal((TermsKind.AwardTerms, 1), (terms.Kind, terms.Version));

        using var pi = new PortalClient(factory);
        await pi.SignInAsync("pi@terms-award.example.edu");
        Assert.Contains("Outputs are published openly", await pi.GetPageAsync($"/Proposals/Details/{id}"), StringComparison.Ordinal);
        using (var without = await pi.PostFormAsync($"/Proposals/Details/{id}", new Dictionary<string, string>(), $"/Proposals/Details/{id}?handler=Accept"))
        {
            Assert.Equal(HttpStatusCode.Redirect, without.StatusCode);
        }
        Assert.Contains("accept the call's award terms (version 1) too", WebUtility.HtmlDecode(await pi.GetPageAsync($"/Proposals/Details/{id}")), StringComparison.Ordinal);
        Assert.Null(await db.Proposals.Where(p => p.Id == id).Select(p => p.AwardResponse).SingleAsync());
        // A key of another version (or made up) does not count.
        using (var forged = await pi.PostFormAsync($"/Proposals/Details/{id}", [new("accepted", $"call-terms:{Guid.NewGuid()}")], $"/Proposals/Details/{id}?handler=Accept"))
        {
            Assert.Equal(HttpStatusCode.Redirect, forged.StatusCode);
        }
        Assert.Null(await db.Proposals.Where(p => p.Id == id).Select(p => p.AwardResponse).SingleAsync());
        using (var accepted = await pi.PostFormAsync($"/Proposals/Details/{id}", [new("accepted", $"call-terms:{terms.Id}")], $"/Proposals/Details/{id}?handler=Accept"))
        {
            Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        }
        Assert.Equal(AwardResponse.Accepted, await db.Proposals.Where(p => p.Id == id).Select(p => p.AwardResponse).SingleAsync());
        var kept = await db.AwardConditionAcceptances.AsNoTracking().SingleAsync(a => a.ProposalId == id);
        Assert.Equal(("Outputs are published openly; acknowledge the program.", "the call's award terms (version 1)"), (kept.Text, kept.Title));
        // The PI's download of their data lists what they accepted with the award, as it read.
        using (var export = await pi.PostFormAsync("/Account/Security", new Dictionary<string, string>(), "/Account/Security?handler=Export"))
        {
            using var json = System.Text.Json.JsonDocument.Parse(await export.Content.ReadAsStringAsync());
            var condition = Assert.Single(json.RootElement.GetProperty("consents").GetProperty("awardConditionsAccepted").EnumerateArray());
            Assert.Equal(("Proposal 1 of terms-award", "Outputs are published openly; acknowledge the program."),
                (condition.GetProperty("proposal").GetString(), condition.GetProperty("text").GetString()));
            // The proposal as the PI sees it in their data: the safety answers and the award's answer with its public-listing choice.
            var proposal = Assert.Single(json.RootElement.GetProperty("proposals").EnumerateArray(), p => p.GetProperty("id").GetGuid() == id);
            Assert.Equal(("Accepted", false, JsonValueKind.False), (proposal.GetProperty("awardResponse").GetString(), proposal.GetProperty("listedPublicly").GetBoolean(),
                proposal.GetProperty("involvesHumanSubjects").ValueKind));
        }

        // A later version changes nothing already accepted; the admin sees who accepted which.
        using (var second = await PublishAsync(s.Admin, "Version two of the award terms, for later awards.", "", s.CallId))
        {
            Assert.Equal(HttpStatusCode.Redirect, second.StatusCode);
        }
        var admin = WebUtility.HtmlDecode(await s.Admin.GetPageAsync($"/Admin/Terms?callId={s.CallId}"));
        Assert.Contains("Proposal 1 of terms-award", admin, StringComparison.Ordinal);
        Assert.Contains("accepted by 1 PI", admin, StringComparison.Ordinal);
        Assert.Contains("Outputs are published openly", WebUtility.HtmlDecode(await pi.GetPageAsync($"/Proposals/Details/{id}")), StringComparison.Ordinal);
    }
}

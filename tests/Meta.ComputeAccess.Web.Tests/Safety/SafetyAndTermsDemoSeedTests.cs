using System.Net;
using Meta.ComputeAccess.Demo;
using Meta.ComputeAccess.Terms;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Safety;

public sealed class SafetyAndTermsDemoSeedTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task The_demo_has_a_proposal_in_the_safety_track_and_terms_its_people_accepted()
    {
        Assert.True(await factory.WithScopeAsync(sp => sp.GetRequiredService<DemoSeeder>().SeedAsync()));
        await using var db = factory.NewDbContext();
        var terms = await db.TermsDocuments.AsNoTracking().SingleAsync(d => d.Kind == TermsKind.TermsOfUse);
        Assert.Equal(1, terms.Version);
        Assert.Equal(DemoSeeder.People.Count, await db.TermsAcceptances.CountAsync(a => a.DocumentId == terms.Id));
        Assert.True(await db.TermsDocuments.AnyAsync(d => d.Kind == TermsKind.AwardTerms && db.Calls.Any(c => c.Id == d.CallId && c.Slug == ReviewDemoSeed.CallSlug)));

        // Every demo person goes straight to the dashboard; the safety reviewer finds the triage proposal waiting.
        using var reviewer = new PortalClient(factory);
        await reviewer.SignInAsync("david.osei@example.org", DemoSeeder.Password);
        var track = await reviewer.GetPageAsync("/Safety");
        Assert.Contains("Federated fine-tuning for hospital triage notes", track, StringComparison.Ordinal);
        Assert.Contains("personal data, human subjects", track, StringComparison.Ordinal);
        var triage = await db.Proposals.Where(p => p.Title.StartsWith("Federated fine-tuning")).Select(p => p.Id).SingleAsync();
        using var approved = await reviewer.PostFormAsync($"/Safety/Review/{triage}", new Dictionary<string, string>
        {
            ["Input.Outcome"] = "ApprovedWithConditions", ["Input.Text"] = "Only model updates leave the hospitals; no note is ever copied.", ["Input.BasedOn"] = "",
        });
        Assert.Equal(HttpStatusCode.Redirect, approved.StatusCode);
        using var researcher = new PortalClient(factory);
        await researcher.SignInAsync("amara.okafor@lakeside.example.edu", DemoSeeder.Password);
        await researcher.GetPageAsync("/");
    }
}

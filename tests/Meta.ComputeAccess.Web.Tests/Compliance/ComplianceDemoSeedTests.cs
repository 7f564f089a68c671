using System.Net;
using Meta.ComputeAccess.Compliance;
using Meta.ComputeAccess.Demo;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Compliance;

public sealed class ComplianceDemoSeedTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task The_demo_has_a_screening_list_and_one_near_match_for_its_compliance_officer_to_clear()
    {
        Assert.True(await factory.WithScopeAsync(sp => sp.GetRequiredService<DemoSeeder>().SeedAsync()));
        await using var db = factory.NewDbContext();
        var version = await db.ScreeningListVersions.AsNoTracking().SingleAsync();
        Assert.Equal((ComplianceDemoSeed.ListName, 1, 5), (version.ListName, version.Number, version.EntryCount));

        var hit = await db.ComplianceHits.AsNoTracking().SingleAsync();
        Assert.Equal(("Lukas Schmidt", "demo-0001", "lukas schmitt", ComplianceHitStatus.Open), (hit.PartyName, hit.EntryId, hit.MatchedName, hit.Status));
        Assert.True(await db.ComplianceHitLinks.AnyAsync(l => l.HitId == hit.Id && l.ProposalId != null));

        // The demo's compliance officer (who signs in with the demo password) sees it in the queue and clears it.
        using var officer = new PortalClient(factory);
        await officer.SignInAsync("sofia.lindqvist@example.org", DemoSeeder.Password);
        Assert.Contains("SCHMITT Lukas", await officer.GetPageAsync("/Compliance"), StringComparison.Ordinal);
        using var cleared = await officer.PostFormAsync("/Compliance", new Dictionary<string, string>
        {
            ["hitId"] = hit.Id.ToString(), ["reason"] = "Different person: a German researcher, not the listed party born in 1961 in Russia.",
        }, "/Compliance?handler=Clear");
        Assert.Equal(HttpStatusCode.Redirect, cleared.StatusCode);
        Assert.Equal(ComplianceHitStatus.Cleared, await db.ComplianceHits.Where(h => h.Id == hit.Id).Select(h => h.Status).SingleAsync());
    }
}

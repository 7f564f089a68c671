using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Demo;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Meta.ComputeAccess.Browser.Tests.Accessibility;

/// <summary>
/// The portal with the demo program that <c>start.sh</c> seeds (calls, proposals in every step, reviews, a running
/// allocation with a month of usage), and the real ids of its things for filling route patterns.
/// </summary>
public sealed class DemoBrowserFixture : BrowserFixture
{
    /// <summary>Values for route parameters and query strings, by name (<c>{slug}</c>, <c>{proposalDraft}</c>, …).</summary>
    public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await WithScopeAsync(sp => sp.GetRequiredService<DemoSeeder>().SeedAsync());
        await using var db = NewDbContext();
        var amara = await db.Users.Where(u => u.Email == "amara.okafor@lakeside.example.edu").Select(u => u.Id).SingleAsync();
        Values["amaraId"] = amara.ToString();
        Values["openSlug"] = "open-call-2027";
        Values["reviewSlug"] = ReviewDemoSeed.CallSlug;
        Values["clusterSlug"] = "grand-teton";
        var amaras = await db.Proposals.Where(p => p.PiUserId == amara).Select(p => new { p.Id, p.Title, p.Status }).ToListAsync();
        Values["amaraDraft"] = amaras.First(p => p.Status == ProposalStatus.Draft).Id.ToString();
        Values["amaraSubmitted"] = amaras.First(p => p.Status == ProposalStatus.Submitted).Id.ToString();
        // In the call in review: one in review (Rosa assigned), one reviewed (ready to decide), one still to screen.
        Values["inReview"] = (await db.Proposals.SingleAsync(p => p.Title.StartsWith("Multilingual retrieval"))).Id.ToString();
        Values["reviewed"] = (await db.Proposals.SingleAsync(p => p.Title.StartsWith("Efficient sparse attention"))).Id.ToString();
        Values["toScreen"] = (await db.Proposals.SingleAsync(p => p.Title.StartsWith("Graph neural surrogates"))).Id.ToString();
        // In the safety track: it declares personal data and human subjects.
        Values["safetyTrack"] = (await db.Proposals.SingleAsync(p => p.Title.StartsWith("Federated fine-tuning"))).Id.ToString();
        Values["reviewCallId"] = (await db.Calls.SingleAsync(c => c.Slug == ReviewDemoSeed.CallSlug)).Id.ToString();
        var allocation = await db.Allocations.SingleAsync(a => a.SlurmAccount == AllocationDemoSeed.DemoSlurmAccount);
        Values["allocationId"] = allocation.Id.ToString();
        Values["reportId"] = (await db.ProgressReports.SingleAsync(r => r.AllocationId == allocation.Id)).Id.ToString();
        Values["periodId"] = allocation.PeriodId.ToString();
        Values["clusterId"] = (await db.Clusters.SingleAsync(c => c.Slug == "grand-teton")).Id.ToString();
    }

    /// <summary>A page signed in as a demo account through the real sign-in form (the demo's password), or a visitor's page.</summary>
    public async Task<IPage> DemoPageAsync(string? email, int width = 1366, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseUrl, ViewportSize = new ViewportSize { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        if (email is not null)
        {
            await page.GotoAsync("/Account/Login");
            await page.GetByLabel("Email").FillAsync(email);
            await page.GetByLabel("Password").FillAsync(DemoSeeder.Password);
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
        }
        return page;
    }
}

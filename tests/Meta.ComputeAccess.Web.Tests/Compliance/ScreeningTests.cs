using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Compliance;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Tests.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Compliance;

/// <summary>Restricted-party and country screening end to end: list import, submission, award and release, re-screening, the compliance queue.</summary>
public sealed partial class ScreeningTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    private async Task<PortalClient> OfficerAsync(string email)
    {
        await factory.CreateUserAsync(email, [Roles.Compliance, Roles.Researcher], "Program");
        var officer = new PortalClient(factory);
        await officer.SignInAsync(email);
        return officer;
    }

    private static async Task<HttpResponseMessage> ImportAsync(PortalClient officer, string listName, string csv, string format = "Auto")
    {
        var token = PortalClient.AntiforgeryToken(await officer.GetPageAsync("/Compliance/Lists"))!;
        using var form = new MultipartFormDataContent
        {
            { new StringContent(token), "__RequestVerificationToken" },
            { new StringContent(listName), "Input.ListName" },
            { new StringContent(format), "Input.Format" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(csv)), "file", "list.csv" },
        };
        return await officer.Http.PostAsync(new Uri("/Compliance/Lists?handler=Import", UriKind.Relative), form);
    }

    private static async Task<HttpResponseMessage> ResolveAsync(PortalClient officer, Guid hitId, string handler, string reason) =>
        await officer.PostFormAsync("/Compliance", new Dictionary<string, string> { ["hitId"] = hitId.ToString(), ["reason"] = reason }, $"/Compliance?handler={handler}");

    private async Task<HttpResponseMessage> DecideAsync(ReviewSteps.Setup s, Guid id) =>
        await s.Admin.PostFormAsync($"/Admin/Proposals/Decide/{id}", new Dictionary<string, string>
        {
            ["Input.Decision"] = "Awarded", ["Input.Hours[0].ClusterId"] = s.ClusterId.ToString(), ["Input.Hours[0].Hours"] = "8000", ["Input.Message"] = "Congratulations.",
        });

    [Fact]
    public async Task An_open_hit_holds_the_award_and_its_release_and_clearing_it_lets_them_through()
    {
        var (s, id, one, two) = await steps.InReviewAsync("screen-award", "lukas.schmidt@hafen.example.de", "Hafen University", "one@tokai.example.ac.jp", "two@north.example.edu");
        foreach (var client in new[] { one, two })
        {
            using var r = await client.PostFormAsync($"/Reviews/Review/{id}", ReviewSteps.CompleteReview(s, "A sound plan with a clear schedule."), $"/Reviews/Review/{id}?handler=Submit");
            Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        }
        using var officer = await OfficerAsync("officer@screen-award.example.org");
        using (var imported = await ImportAsync(officer, "Demo list", ComplianceDemoSeed.ListCsv))
        {
            Assert.True(imported.StatusCode == HttpStatusCode.Redirect, ReviewSteps.ProblemOf(await imported.Content.ReadAsStringAsync()) + Regex.Match(await imported.Content.ReadAsStringAsync(), "text-danger small[^>]*>([^<]+)<").Groups[1].Value);
        }

        // The PI "lukas.schmidt" is like the listed "SCHMITT Lukas": the award is refused, and the hit waits in the queue.
        using (var held = await DecideAsync(s, id))
        {
            Assert.Equal(HttpStatusCode.OK, held.StatusCode);
            Assert.Contains("compliance screening holds", WebUtility.HtmlDecode(await held.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        await using var db = factory.NewDbContext();
        Assert.Null(await db.Proposals.Where(p => p.Id == id).Select(p => p.Decision).SingleAsync());
        var hit = await db.ComplianceHits.AsNoTracking().SingleAsync(h => h.Kind == ComplianceHitKind.ListMatch && h.PartyName == "lukas.schmidt");
        Assert.Equal(("demo-0001", ComplianceHitStatus.Open), (hit.EntryId, hit.Status));
        Assert.InRange(hit.Score!.Value, new ComplianceOptions().MatchThreshold, 99);
        var queue = WebUtility.HtmlDecode(await officer.GetPageAsync("/Compliance"));
        Assert.Contains("SCHMITT Lukas", queue, StringComparison.Ordinal);
        Assert.Contains("Proposal “Proposal 1 of screen-award”", queue, StringComparison.Ordinal);

        // A reason is required; a cleared hit lets the award be recorded.
        using (var noReason = await ResolveAsync(officer, hit.Id, "Clear", ""))
        {
            Assert.Equal(HttpStatusCode.OK, noReason.StatusCode);
            Assert.Equal(ComplianceHitStatus.Open, await db.ComplianceHits.Where(h => h.Id == hit.Id).Select(h => h.Status).SingleAsync());
        }
        using (var cleared = await ResolveAsync(officer, hit.Id, "Clear", "Different person: the listed party was born in 1961 and lives in Kaliningrad."))
        {
            Assert.Equal(HttpStatusCode.Redirect, cleared.StatusCode);
        }
        using (var recorded = await DecideAsync(s, id))
        {
            Assert.Equal(HttpStatusCode.Redirect, recorded.StatusCode);
        }
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "compliance.hit-cleared" && a.SubjectId == hit.Id.ToString()));

        // The PI moves to a country the program restricts before the release: the release is held until that is cleared too.
        var pi = await db.Users.Where(u => u.Email == "lukas.schmidt@hafen.example.de").Select(u => u.Id).SingleAsync();
        await db.Users.Where(u => u.Id == pi).ExecuteUpdateAsync(u => u.SetProperty(x => x.Country, "BY"));
        using (var rule = await officer.PostFormAsync("/Compliance/Countries", new Dictionary<string, string> { ["country"] = "BY", ["level"] = "Restricted" }, "/Compliance/Countries?handler=Program"))
        {
            Assert.Equal(HttpStatusCode.Redirect, rule.StatusCode);
        }
        using (var release = await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Ranking", new Dictionary<string, string>(), $"/Admin/Calls/{s.Slug}/Ranking?handler=Release"))
        {
            Assert.Equal(HttpStatusCode.OK, release.StatusCode);
            Assert.Contains("The award cannot be released", WebUtility.HtmlDecode(await release.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        Assert.Null(await db.Proposals.Where(p => p.Id == id).Select(p => p.DecisionReleasedAt).SingleAsync());
        var country = await db.ComplianceHits.AsNoTracking().SingleAsync(h => h.Kind == ComplianceHitKind.CountryRule && h.UserId == pi);
        Assert.Equal(("BY", CountryLevel.Restricted), (country.Country, country.CountryLevel));
        using (var cleared = await ResolveAsync(officer, country.Id, "Clear", "Reviewed: a visiting position, export licence not required."))
        {
            Assert.Equal(HttpStatusCode.Redirect, cleared.StatusCode);
        }
        await ReviewSteps.ReleaseAsync(s);
        Assert.NotNull(await db.Proposals.Where(p => p.Id == id).Select(p => p.DecisionReleasedAt).SingleAsync());
    }

    [Fact]
    public async Task A_new_list_version_flags_an_active_allocations_co_investigator_and_tells_the_compliance_officers()
    {
        var call = await factory.CreateOpenCallAsync("screen-rescreen");
        var pi = await factory.CreateUserAsync("pi@rescreen.example.edu");
        var co = await factory.CreateUserAsync("ivan.volkov@rescreen.example.edu");
        var officer = await factory.CreateUserAsync("officer@rescreen.example.org", [Roles.Compliance, Roles.Researcher], "Program");
        var now = factory.Clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        Guid allocationId;
        await using (var db = factory.NewDbContext())
        {
            var dbCall = await db.Calls.SingleAsync(c => c.Id == call.Id);
            var proposal = Proposal.StartDraft(dbCall, pi.Id, "Rescreened proposal", now);
            proposal.AddCoInvestigator(co.Email!, co.Id, now);
            db.Proposals.Add(proposal);
            var period = AllocationPeriod.Create("Rescreen period", today.AddDays(-1), today.AddDays(200), now);
            db.AllocationPeriods.Add(period);
            db.ClusterCapacities.Add(ClusterCapacity.Create(call.ClusterId, period.Id, 100_000m, 1m, 0m, now));
            await db.SaveChangesAsync();
            allocationId = (await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CreateAsync(
                new NewAllocation(period.Id, pi.Id, "Rescreened allocation", today, today.AddDays(100), new Dictionary<Guid, decimal> { [call.ClusterId] = 1_000m },
                    ProposalId: proposal.Id, SlurmAccount: "rescreen-acct"), null))).Id;
        }
        const string Header = "id,name,aliases,countries,dataset\n";
        var first = await ImportAndRescreenAsync("Watch list", Header + "W-1,Harbour Dynamics Trading,,AE,Local\n", officer.Id);
        await using var check = factory.NewDbContext();
        Assert.False(await check.ComplianceHits.AnyAsync(h => h.UserId == co.Id));

        var second = await ImportAndRescreenAsync("Watch list", Header + "W-1,Harbour Dynamics Trading,,AE,Local\nW-2,VOLKOV Ivan,Иван Волков,RU,Local\n", officer.Id);
        Assert.Equal([1, 2], await check.ScreeningListVersions.Where(v => v.Id == first || v.Id == second).OrderBy(v => v.Number).Select(v => v.Number).ToListAsync());
        var hit = await check.ComplianceHits.AsNoTracking().SingleAsync(h => h.UserId == co.Id);
        Assert.Equal((ComplianceHitKind.ListMatch, "W-2", second, ComplianceHitStatus.Open), (hit.Kind, hit.EntryId, hit.VersionId, hit.Status));
        Assert.True(await check.ComplianceHitLinks.AnyAsync(l => l.HitId == hit.Id && l.AllocationId == allocationId));
        Assert.True(await check.Notifications.AnyAsync(n => n.UserId == officer.Id && n.Kind == NotificationKinds.ComplianceHits));
        Assert.False(await check.Notifications.AnyAsync(n => n.UserId == co.Id && n.Kind == NotificationKinds.ComplianceHits));
        Assert.True(await check.AuditEntries.AnyAsync(a => a.Action == "compliance.hit-found" && a.SubjectId == hit.Id.ToString()));

        // Running the job again finds nothing new.
        Assert.Equal(0, await factory.WithScopeAsync(sp => sp.GetRequiredService<ComplianceRescreenJob>().RunAsync(second, default)));
        Assert.Equal(1, await check.ComplianceHits.CountAsync(h => h.UserId == co.Id));

        // An award of the same proposal released after the hit was found (not linked to the hit yet).
        var later = await factory.WithScopeAsync(async sp =>
        {
            var proposalId = await check.Allocations.Where(a => a.Id == allocationId).Select(a => a.ProposalId!.Value).SingleAsync();
            var periodId = await check.Allocations.Where(a => a.Id == allocationId).Select(a => a.PeriodId).SingleAsync();
            return (await sp.GetRequiredService<AllocationService>().CreateAsync(new NewAllocation(periodId, pi.Id, "Rescreened, second award", today, today.AddDays(100),
                new Dictionary<Guid, decimal> { [call.ClusterId] = 500m }, ProposalId: proposalId, SlurmAccount: "rescreen-two"), null)).Id;
        });
        Assert.False(await check.ComplianceHitLinks.AnyAsync(l => l.HitId == hit.Id && l.AllocationId == later));

        // Blocking suspends the allocation, and the team's other award with it.
        using var client = new PortalClient(factory);
        await client.SignInAsync(officer.Email!);
        using (var blocked = await ResolveAsync(client, hit.Id, "Block", "Confirmed: same person, date of birth and nationality match."))
        {
            Assert.Equal(HttpStatusCode.Redirect, blocked.StatusCode);
        }
        Assert.Equal(AllocationState.Suspended, await check.Allocations.Where(a => a.Id == allocationId).Select(a => a.State).SingleAsync());
        Assert.Equal(AllocationState.Suspended, await check.Allocations.Where(a => a.Id == later).Select(a => a.State).SingleAsync());
    }

    private async Task<Guid> ImportAndRescreenAsync(string listName, string csv, Guid officer) =>
        await factory.WithScopeAsync(async sp =>
        {
            var bytes = Encoding.UTF8.GetBytes(csv);
            var imported = await sp.GetRequiredService<ScreeningLists>().ImportAsync(
                new ScreeningListUpload(listName, ScreeningListFormat.Auto, "list.csv", bytes.Length, new MemoryStream(bytes)), officer, default);
            await sp.GetRequiredService<ComplianceRescreenJob>().RunAsync(imported.VersionId, default);
            return imported.VersionId;
        });

    [Fact]
    public async Task A_pi_in_a_country_the_call_embargoes_cannot_submit_and_is_told_why()
    {
        var call = await factory.CreateOpenCallAsync("screen-embargo");
        var pi = await factory.CreateUserAsync("pi@embargo.example.edu");
        var officer = await factory.CreateUserAsync("officer@embargo.example.org", [Roles.Compliance, Roles.Researcher], "Program");
        await factory.WithScopeAsync(sp => sp.GetRequiredService<CountryPolicies>().SetCallRulesAsync(call.Id, ["IR"], [], officer.Id, default));
        await using var db = factory.NewDbContext();
        await db.Users.Where(u => u.Id == pi.Id).ExecuteUpdateAsync(u => u.SetProperty(x => x.Country, "IR"));
        using var client = new PortalClient(factory);
        await client.SignInAsync("pi@embargo.example.edu");
        using var created = await client.PostFormAsync($"/Proposals/Create?call={call.Slug}", new Dictionary<string, string> { ["call"] = call.Slug, ["Title"] = "Working title" });
        var id = Guid.Parse(GuidPattern().Match(created.Headers.Location!.OriginalString).Value);
        var version = await db.Proposals.Where(p => p.Id == id).Select(p => p.Version).SingleAsync();

        using var refused = await client.PostFormAsync($"/Proposals/Edit/{id}", TestCalls.CompleteForm(call, version), $"/Proposals/Edit/{id}?handler=Submit");
        var html = WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains($"This proposal cannot be submitted: the rule of the call Call screen-embargo '{Countries.NameOf("IR")}: embargoed' applies to a member of the team.", html, StringComparison.Ordinal);
        Assert.Equal(ProposalStatus.Draft, await db.Proposals.Where(p => p.Id == id).Select(p => p.Status).SingleAsync());
        Assert.False(await db.ComplianceHits.AnyAsync(h => h.UserId == pi.Id));
    }

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex GuidPattern();
}

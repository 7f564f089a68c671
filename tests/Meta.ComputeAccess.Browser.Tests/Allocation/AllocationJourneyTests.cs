using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Meta.ComputeAccess.Browser.Tests.Allocation;

/// <summary>
/// The allocation module as its users meet it: the PI watches the balance, the burn-down and the jobs move when the
/// cluster posts usage (and not move when it posts the same again); the admin closes the allocation early and sees
/// its unused hours back in the cluster's free capacity.
/// </summary>
public sealed class AllocationJourneyTests(BrowserFixture portal) : IClassFixture<BrowserFixture>
{
    private Task<IPage> SignedInAsync(string email, List<string> csp) => portal.SignedInPageAsync(email, csp);

    [Fact]
    public async Task Usage_moves_the_balance_and_chart_once_and_closing_early_frees_the_rest()
    {
        var now = portal.Clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var pi = await portal.CreateUserAsync("pi@burn-lab.example.edu", institution: "Burn Lab");
        await portal.CreateUserAsync("admin@burn.example.org", [Roles.Admin, Roles.Researcher], "Program");
        var cluster = Cluster.Create("Aurora", "aurora", "H100 80GB", 16, 8, "aurora", now);
        var period = AllocationPeriod.Create("2026 H2", today.AddDays(-60), today.AddDays(120), now);
        string token;
        await using (var db = portal.NewDbContext())
        {
            db.Clusters.Add(cluster);
            db.AllocationPeriods.Add(period);
            db.ClusterCapacities.Add(ClusterCapacity.Create(cluster.Id, period.Id, 1_000m, 1m, 0m, now));
            var (row, secret) = ClusterToken.Create(cluster.Id, "cron", null, now);
            db.ClusterTokens.Add(row);
            token = secret;
            await db.SaveChangesAsync();
        }
        var allocation = await portal.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CreateAsync(
            new NewAllocation(period.Id, pi.Id, "Burn-down project", today.AddDays(-20), today.AddDays(60),
                new Dictionary<Guid, decimal> { [cluster.Id] = 400m }, SlurmAccount: "burn-acct"), actor: null));

        var csp = new List<string>();
        var piPage = await SignedInAsync("pi@burn-lab.example.edu", csp);
        await piPage.GotoAsync("/Allocations");
        await piPage.GetByRole(AriaRole.Link, new() { Name = "Burn-down project" }).ClickAsync();
        var auroraRow = piPage.GetByRole(AriaRole.Row).Filter(new() { HasText = "Aurora" }).First;
        await Expect(auroraRow).ToContainTextAsync("400");
        await Expect(piPage.GetByText("No jobs charged yet.")).ToBeVisibleAsync();
        var usedLine = piPage.Locator("svg.chart polyline[stroke='#0d6efd']");
        var pointsBefore = await usedLine.CountAsync() == 0 ? "" : await usedLine.GetAttributeAsync("points");

        // The cluster's cron job posts yesterday's jobs: an 8-GPU hour, its steps, and a job still running.
        var end = now.UtcDateTime.Date.AddDays(-1).AddHours(12);
        var sacct = new StringBuilder("JobID|Account|User|Start|End|ElapsedRaw|AllocTRES|State\n")
            .Append(FormattableString.Invariant($"7001|burn-acct|ada|{end.AddHours(-1):yyyy-MM-ddTHH:mm:ss}|{end:yyyy-MM-ddTHH:mm:ss}|3600|billing=64,cpu=64,gres/gpu:h100=8,gres/gpu=8,node=1|COMPLETED\n"))
            .Append(FormattableString.Invariant($"7001.batch|burn-acct|ada|{end.AddHours(-1):yyyy-MM-ddTHH:mm:ss}|{end:yyyy-MM-ddTHH:mm:ss}|3600|cpu=64,gres/gpu=8,node=1|COMPLETED\n"))
            .Append("7002|burn-acct|ada|2026-11-24T08:00:00|Unknown|600|gres/gpu=1|RUNNING\n").ToString();
        using var cron = new HttpClient { BaseAddress = new Uri(portal.BaseUrl) };
        cron.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        async Task<JsonElement> PostAsync()
        {
            using var response = await cron.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), new StringContent(sacct, Encoding.UTF8, "text/plain"));
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        }
        var first = await PostAsync();
        Assert.Equal(1, first.GetProperty("charged").GetInt32());
        Assert.Equal(1, first.GetProperty("pending").GetInt32());

        await piPage.ReloadAsync();
        await Expect(auroraRow).ToContainTextAsync("392");
        await Expect(piPage.GetByRole(AriaRole.Row).Filter(new() { HasText = "7001" })).ToContainTextAsync("8");
        var pointsAfter = await usedLine.GetAttributeAsync("points");
        Assert.NotEqual(pointsBefore, pointsAfter);

        // The same file again changes nothing.
        var again = await PostAsync();
        Assert.Equal(0, again.GetProperty("accepted").GetInt32());
        Assert.Equal(1, again.GetProperty("duplicate").GetInt32());
        await piPage.ReloadAsync();
        await Expect(auroraRow).ToContainTextAsync("392");
        Assert.Equal(pointsAfter, await usedLine.GetAttributeAsync("points"));

        // The admin closes it early: the 392 unused hours are written off and return to Aurora's free capacity.
        var admin = await SignedInAsync("admin@burn.example.org", csp);
        await admin.GotoAsync($"/Admin/Capacity?period={period.Id}");
        await Expect(admin.GetByRole(AriaRole.Row).Filter(new() { HasText = "Aurora" })).ToContainTextAsync("600");
        await admin.GotoAsync($"/Admin/Allocations/Details?id={allocation.Id}");
        await admin.GetByLabel("Reason (kept in the history)").FillAsync("The project moved to another program.");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
        await Expect(admin.GetByText("Allocation closed.")).ToBeVisibleAsync();
        await Expect(admin.GetByText("Closed early, unused hours returned to the cluster's capacity").First).ToBeVisibleAsync();
        await admin.GotoAsync($"/Admin/Capacity?period={period.Id}");
        await Expect(admin.GetByRole(AriaRole.Row).Filter(new() { HasText = "Aurora" })).ToContainTextAsync("992");

        // Quotas for Slurm: a closed account is no longer exported.
        var quotas = await cron.GetStringAsync(new Uri("/api/v1/clusters/aurora/quotas?format=sacctmgr", UriKind.Relative));
        Assert.DoesNotContain("burn-acct", quotas, StringComparison.Ordinal);
        Assert.Empty(csp);
    }
}

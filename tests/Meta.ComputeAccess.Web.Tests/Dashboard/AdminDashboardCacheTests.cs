using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Dashboard;

/// <summary>
/// A program large enough (here: 3 queued proposals) has its admin dashboard counted once per few seconds per instance,
/// shown with when it was counted; below that every visit counts.
/// </summary>
public sealed class AdminDashboardCacheTests(AdminDashboardCacheTests.Factory factory) : IClassFixture<AdminDashboardCacheTests.Factory>
{
    public sealed class Factory : PortalFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("AdminDashboard:KeepFromQueuedProposals", "3");
            builder.UseSetting("AdminDashboard:KeepFor", "00:00:15");
        }
    }

    private const string Slug = "kept-counts";

    [Fact]
    public async Task Counts_are_kept_for_a_few_seconds_only_once_the_queues_are_large()
    {
        var now = factory.Clock.GetUtcNow();
        var first = await factory.CreateUserAsync("first@kept.example.org", [Roles.Admin, Roles.Researcher], "Program");
        var second = await factory.CreateUserAsync("second@kept.example.org", [Roles.Admin, Roles.Researcher], "Program");
        var pi = await factory.CreateUserAsync("pi@kept.example.edu");
        var (call, cluster) = DashboardWorld.NewCall(Slug, now);
        await using (var db = factory.NewDbContext())
        {
            db.Clusters.Add(cluster);
            db.Calls.Add(call);
            var w = new DashboardWorld(db, call, cluster.Id, pi.Id, first.Id, now);
            w.Submitted("Queued proposal one");
            w.Submitted("Queued proposal two");
            await db.SaveChangesAsync();
        }
        using var one = new PortalClient(factory);
        await one.SignInAsync(first.Email!);
        using var other = new PortalClient(factory);
        await other.SignInAsync(second.Email!);

        // Two queued: below the threshold, every visit counts.
        Assert.Equal(("2", false), await ToScreenAsync(one));
        await SubmitAsync(call, cluster.Id, pi.Id, first.Id, "Queued proposal three");
        Assert.Equal(("3", false), await ToScreenAsync(one));

        // Three queued: that count is kept, for every admin, and says when it was made.
        await SubmitAsync(call, cluster.Id, pi.Id, first.Id, "Queued proposal four");
        Assert.Equal(("3", true), await ToScreenAsync(other));
        factory.Clock.Advance(TimeSpan.FromSeconds(14));
        Assert.Equal(("3", true), await ToScreenAsync(one));

        // Once it is older than KeepFor, the next visit counts again.
        factory.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(("4", false), await ToScreenAsync(one));
        Assert.Equal(("4", true), await ToScreenAsync(other));
    }

    private async Task SubmitAsync(Meta.ComputeAccess.Calls.Call call, Guid cluster, Guid pi, Guid admin, string title)
    {
        await using var db = factory.NewDbContext();
        var tracked = await db.Calls.SingleAsync(c => c.Id == call.Id);
        new DashboardWorld(db, tracked, cluster, pi, admin, factory.Clock.GetUtcNow()).Submitted(title);
        await db.SaveChangesAsync();
    }

    private static async Task<(string ToScreen, bool Kept)> ToScreenAsync(PortalClient client)
    {
        var html = await client.GetPageAsync("/");
        return (DashboardWorld.CallQueue(html, Slug, "screen"), html.Contains("data-counted-at", StringComparison.Ordinal));
    }
}

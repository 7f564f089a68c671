using System.Globalization;
using System.Net;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Jobs;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Configurations;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace Meta.ComputeAccess.Web.Tests.Security;

/// <summary>
/// Two portal instances on one database, as behind the reverse proxy: a client's sign-in posts count against one
/// limit whichever instance they reach (the counts live in PostgreSQL, not in each process).
/// </summary>
public sealed class SharedRateLimitTests : IAsyncLifetime
{
    private const int Limit = 4;

    private readonly Instance first = new(null, null);
    private Instance second = null!;

    public sealed class Instance(string? sharedDatabase, FakeTimeProvider? sharedClock) : PortalFactory
    {
        public override async Task InitializeAsync()
        {
            if (sharedDatabase is null)
            {
                await base.InitializeAsync();
            }
            else
            {
                ConnectionString = sharedDatabase;
            }
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("RateLimits:AccountPostsPerMinute", Limit.ToString(CultureInfo.InvariantCulture));
            if (sharedClock is not null)
            {
                // One clock for both instances, so they agree on the window.
                builder.ConfigureServices(services =>
                {
                    services.RemoveAll<TimeProvider>();
                    services.AddSingleton<TimeProvider>(sharedClock);
                });
            }
        }
    }

    public async Task InitializeAsync()
    {
        await first.InitializeAsync();
        second = new Instance(first.ConnectionString, first.Clock);
        await second.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        // The second instance only borrows the database; the first drops it.
        await second.DisposeAsync();
        await ((IAsyncLifetime)first).DisposeAsync();
    }

    [Fact]
    public async Task Sign_in_posts_spread_over_two_instances_share_one_limit_and_the_next_window_opens_it_again()
    {
        using var onFirst = new PortalClient(first);
        using var onSecond = new PortalClient(second);

        // Two posts reach each instance: under the limit on each alone, and exactly the limit together.
        var allowed = new List<HttpStatusCode>();
        foreach (var client in new[] { onFirst, onSecond, onFirst, onSecond })
        {
            using var response = await FailedSignInAsync(client);
            allowed.Add(response.StatusCode);
        }
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, Limit), allowed);

        foreach (var client in new[] { onFirst, onSecond })
        {
            using var refused = await FailedSignInAsync(client);
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            var retryAfter = int.Parse(refused.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 60);
            Assert.Contains("Too many requests", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        first.Clock.Advance(TimeSpan.FromMinutes(1));
        using var again = await FailedSignInAsync(onSecond);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Purging_removes_ended_windows_and_keeps_the_current_one_of_both_limits()
    {
        // Windows are aligned to the epoch: start just after a 15-minute boundary, so both wrong passwords below fall in
        // one sign-in window whatever time the test clock started at (otherwise one run in fifteen crossed a boundary).
        var start = first.Clock.GetUtcNow();
        first.Clock.Advance(RateLimitWindow.WindowEnd(start, TimeSpan.FromMinutes(15)) - start + TimeSpan.FromSeconds(1));
        using var client = new PortalClient(first);
        using (await FailedSignInAsync(client))
        {
        }
        first.Clock.Advance(TimeSpan.FromMinutes(1));
        using (await FailedSignInAsync(client))
        {
        }

        await first.WithScopeAsync(sp => sp.GetRequiredService<PurgeRateLimitWindowsJob>().RunAsync());

        await using var db = first.NewDbContext();
        var now = first.Clock.GetUtcNow();
        // The client's form posts: the first minute's window is gone, the current one counts one post.
        var posts = Assert.Single(await db.RateLimitWindows.Where(w => w.ClientKey.StartsWith(PortalRateLimits.Accounts + "|")).ToListAsync());
        Assert.Equal(1, posts.Count);
        Assert.True(posts.EndsAt > now);
        // Each typed address's wrong password, in a 15-minute window that has not ended for either.
        Assert.Equal(2, await db.RateLimitWindows.CountAsync(w => w.ClientKey.StartsWith(SignInThrottles.KeyPrefix)));

        first.Clock.Advance(TimeSpan.FromMinutes(15));
        await first.WithScopeAsync(sp => sp.GetRequiredService<PurgeRateLimitWindowsJob>().RunAsync());
        Assert.False(await db.RateLimitWindows.AnyAsync());
    }

    /// <summary>A wrong password for an address of its own: five for one address would pause it (ADR 0006), which is not what is tested here.</summary>
    private static Task<HttpResponseMessage> FailedSignInAsync(PortalClient client) =>
        client.PostFormAsync("/Account/Login", new Dictionary<string, string>
        {
            ["Input.Email"] = $"nobody-{Guid.NewGuid():N}@example.edu",
            ["Input.Password"] = "not the password",
        });
}

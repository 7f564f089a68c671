using System.Collections.Concurrent;
using System.Data.Common;
using System.Net;
using System.Net.Http.Headers;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;

namespace Meta.ComputeAccess.Web.Tests.Security;

/// <summary>
/// Bad cluster tokens are limited per client address before their database lookup: the ordinary API limit runs
/// after authentication and so never saw them. On a real Kestrel port, with clients told apart by X-Forwarded-For
/// as behind the reverse proxy.
/// </summary>
public sealed class ClusterTokenFailureTests(ClusterTokenFailureTests.FewBadTokens portal) : IClassFixture<ClusterTokenFailureTests.FewBadTokens>
{
    private const int Limit = 5;

    public sealed class FewBadTokens : PortalFactory
    {
        public string BaseUrl { get; private set; } = "";

        /// <summary>Commands that read the token table, from any DbContext the portal creates.</summary>
        public TokenLookups Lookups { get; } = new();

        public ConcurrentQueue<LogEvent> Logs { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("RateLimits:ClusterTokenFailuresPerMinute", Limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.ConfigureServices(services =>
            {
                services.ConfigureDbContext<PortalDbContext>(o => o.AddInterceptors(Lookups));
                services.AddSingleton<ILogEventSink>(new QueueSink(Logs));
            });
        }

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            BaseUrl = StartOnKestrel();
        }
    }

    public sealed class TokenLookups : DbCommandInterceptor
    {
        private int count;

        public int Count => Volatile.Read(ref count);

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (command.CommandText.Contains("cluster_tokens", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref count);
            }
            return ValueTask.FromResult(result);
        }
    }

    private sealed class QueueSink(ConcurrentQueue<LogEvent> queue) : ILogEventSink
    {
        public void Emit(LogEvent logEvent) => queue.Enqueue(logEvent);
    }

    [Fact]
    public async Task Bad_tokens_beyond_the_limit_get_429_with_retry_after_without_a_lookup_or_a_log_line_each()
    {
        var token = await ValidTokenAsync("held");
        using var http = new HttpClient { BaseAddress = new Uri(portal.BaseUrl) };
        var lookupsBefore = portal.Lookups.Count;
        var logsBefore = TokenLogLines();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 150; i++)
        {
            using var response = await SendAsync(http, "203.0.113.66", "mca_not-a-real-token-" + i);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.InRange(int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 60);
                Assert.Contains("Too many unknown or revoked tokens", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, Limit).Concat(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 150 - Limit)), statuses);
        Assert.Equal(Limit, portal.Lookups.Count - lookupsBefore);
        // The first bad token and the moment the address was held: two lines, not 150.
        Assert.Equal(2, TokenLogLines() - logsBefore);

        // Another client behind the same proxy is not held; the held address waits even with a valid token.
        using (var other = await SendAsync(http, "198.51.100.20", token))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }
        using (var heldValid = await SendAsync(http, "203.0.113.66", token))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, heldValid.StatusCode);
        }

        // The next window starts afresh.
        portal.Clock.Advance(TimeSpan.FromSeconds(61));
        using var afterWindow = await SendAsync(http, "203.0.113.66", token);
        Assert.Equal(HttpStatusCode.OK, afterWindow.StatusCode);
    }

    [Fact]
    public async Task A_cluster_with_a_valid_token_is_never_counted_as_failing()
    {
        var token = await ValidTokenAsync("steady");
        using var http = new HttpClient { BaseAddress = new Uri(portal.BaseUrl) };
        for (var i = 0; i < Limit * 3; i++)
        {
            using var response = await SendAsync(http, "192.0.2.44", token, "steady");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    private int TokenLogLines() =>
        portal.Logs.Count(e => e.MessageTemplate.Text.Contains("cluster", StringComparison.OrdinalIgnoreCase)
                               && e.MessageTemplate.Text.Contains("token", StringComparison.OrdinalIgnoreCase));

    private async Task<string> ValidTokenAsync(string slug)
    {
        await using var db = portal.NewDbContext();
        var cluster = Cluster.Create("Cluster " + slug, slug, "H100 80GB", 1, 8, slug, portal.Clock.GetUtcNow());
        db.Clusters.Add(cluster);
        var (row, secret) = ClusterToken.Create(cluster.Id, "cron", null, portal.Clock.GetUtcNow());
        db.ClusterTokens.Add(row);
        await db.SaveChangesAsync();
        return secret;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string client, string token, string cluster = "held")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/clusters/{cluster}/quotas");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("X-Forwarded-For", client);
        return await http.SendAsync(request);
    }
}

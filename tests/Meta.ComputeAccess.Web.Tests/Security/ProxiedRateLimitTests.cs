using System.Net;
using System.Net.Http.Headers;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Testing;
using Microsoft.AspNetCore.Hosting;

namespace Meta.ComputeAccess.Web.Tests.Security;

/// <summary>
/// Behind the reverse proxy (on loopback, trusted by default) every client arrives from the proxy's address; the
/// limits must count each forwarded client address on its own. The portal runs on a real Kestrel port here, so the
/// connection's address is the real loopback one.
/// </summary>
public sealed class ProxiedRateLimitTests(ProxiedRateLimitTests.BehindProxy portal) : IClassFixture<ProxiedRateLimitTests.BehindProxy>
{
    public sealed class BehindProxy : PortalFactory
    {
        public string BaseUrl { get; private set; } = "";

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("RateLimits:ClusterApiRequestsPerMinute", "2");
        }

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            BaseUrl = StartOnKestrel();
        }
    }

    [Fact]
    public async Task Each_forwarded_client_address_has_its_own_limit()
    {
        string token;
        await using (var db = portal.NewDbContext())
        {
            var cluster = Cluster.Create("Proxied", "proxied", "H100 80GB", 1, 8, "proxied", portal.Clock.GetUtcNow());
            db.Clusters.Add(cluster);
            var (row, secret) = ClusterToken.Create(cluster.Id, "cron", null, portal.Clock.GetUtcNow());
            db.ClusterTokens.Add(row);
            await db.SaveChangesAsync();
            token = secret;
        }
        using var http = new HttpClient { BaseAddress = new Uri(portal.BaseUrl) };
        async Task<HttpStatusCode> FromAsync(string client)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/clusters/proxied/quotas");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add("X-Forwarded-For", client);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await FromAsync("203.0.113.10"));
        Assert.Equal(HttpStatusCode.OK, await FromAsync("203.0.113.10"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await FromAsync("203.0.113.10"));
        // Another client behind the same proxy is not held up by the first one's limit.
        Assert.Equal(HttpStatusCode.OK, await FromAsync("198.51.100.7"));
        Assert.Equal(HttpStatusCode.OK, await FromAsync("198.51.100.7"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await FromAsync("198.51.100.7"));
    }
}

using System.Net;
using Meta.ComputeAccess.Testing;
using Microsoft.AspNetCore.Hosting;

namespace Meta.ComputeAccess.Web.Tests.Security;

public sealed class RateLimitTests(RateLimitTests.StrictLimits portal) : IClassFixture<RateLimitTests.StrictLimits>
{
    public sealed class StrictLimits : PortalFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("RateLimits:AccountPostsPerMinute", "3");
        }
    }

    [Fact]
    public async Task Sign_in_attempts_beyond_the_limit_get_429_with_retry_after_and_reading_the_page_stays_free()
    {
        using var client = new PortalClient(portal);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await client.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = "nobody@example.edu", ["Input.Password"] = "guess " + i });
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
                Assert.Contains("Too many requests", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        using var page = await client.GetAsync("/Account/Login");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }
}

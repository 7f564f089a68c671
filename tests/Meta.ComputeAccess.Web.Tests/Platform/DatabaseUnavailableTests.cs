using System.Net;
using System.Net.Http.Headers;
using Meta.ComputeAccess.Web.Platform;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace Meta.ComputeAccess.Web.Tests.Platform;

/// <summary>
/// The portal pointed at a port where no PostgreSQL listens (deterministic, no restart of the shared test cluster):
/// pages and the cluster API answer 503 with Retry-After, never a bare 500. The restart under load is
/// deploy/local/fault-test.sh (docs/reliability.md).
/// </summary>
public sealed class DatabaseUnavailableTests(DatabaseUnavailableTests.UnreachableDatabaseFactory factory) : IClassFixture<DatabaseUnavailableTests.UnreachableDatabaseFactory>
{
    public sealed class UnreachableDatabaseFactory : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting("ConnectionStrings:Portal", $"Host=127.0.0.1;Port={ClosedPort()};Username=nobody;Password=nothing;Database=none;Timeout=5");
            builder.UseSetting("Jobs:RunServer", "false");
            builder.UseSetting("Smtp:PublicBaseUrl", "http://localhost");
            // Every request here fails to connect on purpose: keep the expected error logs out of the test output.
            builder.UseSetting("Serilog:MinimumLevel:Default", "Fatal");
            builder.UseSetting("Serilog:MinimumLevel:Override:Microsoft.AspNetCore.DataProtection", "Fatal");
        }

        private static int ClosedPort()
        {
            var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }
    }

    private HttpClient Client() => factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    [Fact]
    public async Task Cluster_api_answers_503_problem_with_retry_after()
    {
        using var client = Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/clusters/any/quotas");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "mca_some-token-value");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("database is not reachable", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_post_answers_503_and_says_nothing_was_changed()
    {
        using var client = Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/usage")
        {
            Content = new StringContent("JobID|Account|User|Start|End|ElapsedRaw|AllocTRES|State\n1|a|u|2025-01-01T00:00:00|2025-01-01T01:00:00|3600|gres/gpu=1|COMPLETED\n", System.Text.Encoding.UTF8, "text/plain"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "mca_some-token-value");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("Nothing was changed", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_page_that_needs_the_database_answers_a_friendly_503_page()
    {
        using var client = Client();
        // The sign-in form needs the data-protection keys, which live in the database.
        using var response = await client.GetAsync("/Account/Login");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Temporarily unavailable", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readiness_is_unhealthy_503_while_liveness_stays_200()
    {
        using var client = Client();
        using var live = await client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("Unhealthy", await ready.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(PostgresErrorCodes.AdminShutdown, true)]
    [InlineData(PostgresErrorCodes.CannotConnectNow, true)]
    [InlineData(PostgresErrorCodes.UniqueViolation, false)]
    [InlineData(PostgresErrorCodes.SerializationFailure, false)]
    public void Outage_sql_states_are_told_from_other_errors(string sqlState, bool outage)
    {
        var pg = new PostgresException("message", "FATAL", "FATAL", sqlState);
        // As EF Core wraps it: DbUpdateException or InvalidOperationException around the provider's exception.
        var wrapped = new InvalidOperationException("An exception has been raised that is likely due to a transient failure.", pg);
        Assert.Equal(outage, DatabaseUnavailable.Is(wrapped));
    }

    [Fact]
    public void Connection_refused_and_broken_streams_count_as_outages()
    {
        Assert.True(DatabaseUnavailable.Is(new NpgsqlException("Failed to connect", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused))));
        Assert.True(DatabaseUnavailable.Is(new Microsoft.EntityFrameworkCore.DbUpdateException("save", new NpgsqlException("Exception while reading from stream", new EndOfStreamException()))));
        Assert.False(DatabaseUnavailable.Is(new InvalidOperationException("unrelated")));
    }
}

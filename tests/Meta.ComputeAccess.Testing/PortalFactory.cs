using Meta.ComputeAccess.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Meta.ComputeAccess.Testing;

/// <summary>
/// The real portal (Program.cs, every service) on its own cloned PostgreSQL database, with a controllable clock.
/// Use as an xunit class fixture: one database per test class. Jobs are run directly from tests, not by a server.
/// </summary>
public class PortalFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public string ConnectionString { get; protected set; } = "";

    /// <summary>The portal's clock; starts at the real time and moves only when a test advances it.</summary>
    /// <remarks>Starts on a whole second: PostgreSQL keeps microseconds, .NET ticks are finer.</remarks>
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    protected virtual string EnvironmentName => "Testing";

    /// <summary>The identity provider the portal offers, once a fixture started one with <see cref="UseIdentityProviderAsync"/>.</summary>
    public TestIdentityProvider? IdentityProvider { get; private set; }

    /// <summary>Starts the test OpenID Connect provider and configures the portal with it; call from InitializeAsync.</summary>
    protected async Task UseIdentityProviderAsync() => IdentityProvider = await TestIdentityProvider.StartAsync();

    public virtual async Task InitializeAsync() => ConnectionString = await TestDatabases.CreateAsync(GetType().Name);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(EnvironmentName);
        // Serve wwwroot and the bundled libraries from the build output, as a published app would.
        builder.UseStaticWebAssets();
        builder.UseSetting("ConnectionStrings:Portal", ConnectionString);
        builder.UseSetting("Jobs:RunServer", "false");
        builder.UseSetting("Smtp:PublicBaseUrl", "http://localhost");
        // The in-memory test server has no request body size feature, and these two say so on every upload and usage POST
        // (three quarters of the test run's log lines); Kestrel has the feature, so in a real host they never speak.
        builder.UseSetting("Serilog:MinimumLevel:Override:Microsoft.AspNetCore.Routing.EndpointRoutingMiddleware", "Error");
        builder.UseSetting("Serilog:MinimumLevel:Override:Microsoft.AspNetCore.Mvc.Filters.RequestSizeLimitFilter", "Error");
        foreach (var (key, value) in IdentityProvider?.PortalSettings() ?? new Dictionary<string, string>())
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Clock);
        });
    }

    /// <summary>Runs <paramref name="action"/> with a fresh DI scope (a DbContext of its own), as a job or request would.</summary>
    public async Task<T> WithScopeAsync<T>(Func<IServiceProvider, Task<T>> action)
    {
        await using var scope = Services.CreateAsyncScope();
        return await action(scope.ServiceProvider);
    }

    public Task WithScopeAsync(Func<IServiceProvider, Task> action) =>
        WithScopeAsync<bool>(async sp =>
        {
            await action(sp);
            return true;
        });

    /// <summary>
    /// Serves the portal on a real Kestrel port on loopback (not the in-memory test server) and returns its base URL:
    /// for a real browser, or where the connection's address matters. Call once, from InitializeAsync.
    /// </summary>
    protected string StartOnKestrel()
    {
        UseKestrel(0);
        StartServer();
        return Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses
            .First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal);
    }

    /// <summary>A DbContext on the test database, independent of the portal's services, for arranging and asserting.</summary>
    public PortalDbContext NewDbContext() => new(PortalDatabase.Options(ConnectionString));

    async Task IAsyncLifetime.DisposeAsync()
    {
        // Virtual, so that a derived fixture (SmtpPortalFactory) also stops what it started.
        await DisposeAsync();
        if (IdentityProvider is not null)
        {
            await IdentityProvider.DisposeAsync();
        }
        if (ConnectionString.Length > 0)
        {
            await TestDatabases.DropAsync(ConnectionString);
        }
    }
}

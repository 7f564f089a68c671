using System.Net;
using System.Net.Sockets;
using Meta.ComputeAccess.Testing;
using Microsoft.AspNetCore.Hosting;

namespace Meta.ComputeAccess.Web.Tests.Account;

/// <summary>A configured provider that is down: its button ends on a page that says so, never an error page.</summary>
public sealed class UnreachableProviderTests(UnreachableProviderTests.DownProviderFactory portal) : IClassFixture<UnreachableProviderTests.DownProviderFactory>
{
    /// <summary>The portal with one provider whose authority is a loopback port nobody listens on.</summary>
    public sealed class DownProviderFactory : PortalFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            builder.UseSetting("Authentication:Oidc:down:Authority", $"http://127.0.0.1:{port}");
            builder.UseSetting("Authentication:Oidc:down:ClientId", "portal");
            builder.UseSetting("Authentication:Oidc:down:DisplayName", "Closed University");
            builder.UseSetting("Authentication:Oidc:down:RequireHttpsMetadata", "false");
        }
    }

    [Fact]
    public async Task The_button_of_a_provider_that_is_down_says_it_could_not_be_reached()
    {
        using var client = new PortalClient(portal);
        using var pressed = await client.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["provider"] = "down" }, "/Account/ExternalLogin");
        var page = await pressed.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, pressed.StatusCode);
        Assert.Contains("Sign-in through Closed University did not work", page, StringComparison.Ordinal);
        Assert.Contains("Closed University could not be reached.", page, StringComparison.Ordinal);
        // Nothing half-started: no provider sign-in waiting to be finished.
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/Account/ExternalSignup")).StatusCode);
    }
}

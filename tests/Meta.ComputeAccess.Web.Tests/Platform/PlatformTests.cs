using System.Net;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Jobs;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Meta.ComputeAccess.Web.Tests.Platform;

public sealed class PlatformTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Health_endpoints_answer_anonymously_and_ready_checks_postgres_and_hangfire()
    {
        using var client = new PortalClient(factory);
        using var live = await client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Every_page_carries_the_security_headers()
    {
        using var client = new PortalClient(factory);
        using var response = await client.GetAsync("/Account/Login");
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_page_of_a_signed_in_user_is_a_friendly_404_without_internals()
    {
        await factory.CreateUserAsync("lost@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync("lost@example.edu");
        using var response = await client.GetAsync("/No/Such/Page");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Not found", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Development_mailbox_does_not_exist_outside_development()
    {
        using var client = new PortalClient(factory);
        using var response = await client.GetAsync("/Dev/Mailbox");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Purge_job_removes_only_unconfirmed_accounts_older_than_seven_days_and_is_idempotent()
    {
        var old = await factory.CreateUserAsync("stale@example.edu", confirmed: false);
        var confirmed = await factory.CreateUserAsync("kept@example.edu");
        factory.Clock.Advance(TimeSpan.FromDays(8));
        var fresh = await factory.CreateUserAsync("fresh@example.edu", confirmed: false);

        var removed = await factory.WithScopeAsync(sp => sp.GetRequiredService<PurgeUnconfirmedAccountsJob>().RunAsync());
        var again = await factory.WithScopeAsync(sp => sp.GetRequiredService<PurgeUnconfirmedAccountsJob>().RunAsync());

        Assert.Equal(1, removed);
        Assert.Equal(0, again);
        await using var db = factory.NewDbContext();
        Assert.False(await db.Users.AnyAsync(u => u.Id == old.Id));
        Assert.True(await db.Users.AnyAsync(u => u.Id == confirmed.Id));
        Assert.True(await db.Users.AnyAsync(u => u.Id == fresh.Id));
        Assert.Equal(1, await db.AuditEntries.CountAsync(a => a.Action == "account.purged" && a.SubjectId == old.Id.ToString()));
    }

    [Fact]
    public async Task The_portals_connections_prepare_the_statements_they_repeat_unless_the_connection_string_says_otherwise()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        await db.Database.OpenConnectionAsync();
        for (var i = 0; i < 3; i++)
        {
            await db.Users.AsNoTracking().CountAsync(u => u.Email == "nobody-prepared@example.edu");
        }
        var prepared = await db.Database.SqlQuery<string>($"SELECT statement AS \"Value\" FROM pg_prepared_statements").ToListAsync();
        Assert.Contains(prepared, s => s.Contains("nobody", StringComparison.Ordinal) || s.Contains("email", StringComparison.Ordinal));

        const string pooled = "Host=db.example;Database=portal;Max Auto Prepare=0";
        Assert.Equal(pooled, PortalDatabase.Prepared(pooled));
        Assert.Equal(256, new NpgsqlConnectionStringBuilder(PortalDatabase.Prepared("Host=db.example;Database=portal")).MaxAutoPrepare);
    }

    [Fact]
    public async Task Roles_exist_from_the_first_migration()
    {
        await using var db = factory.NewDbContext();
        Assert.Equal(Roles.All.Order(), (await db.Roles.Select(r => r.Name!).ToListAsync()).Order());
    }
}

/// <summary>Outbox delivery into a pickup folder (development mode): every due message once, as an .eml file.</summary>
public sealed class OutboxPickupTests : IClassFixture<OutboxPickupTests.PickupFactory>
{
    private readonly PickupFactory factory;

    public OutboxPickupTests(PickupFactory factory) => this.factory = factory;

    public sealed class PickupFactory : PortalFactory
    {
        public string Folder { get; } = Path.Combine(Path.GetTempPath(), "mca-pickup-" + Guid.NewGuid().ToString("N"));

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Smtp:PickupDirectory", Folder);
        }
    }

    [Fact]
    public async Task Delivery_writes_each_pending_message_once()
    {
        await factory.WithScopeAsync(async sp =>
        {
            var outbox = sp.GetRequiredService<EmailOutbox>();
            outbox.Queue("test.kind", null, "one@example.edu", "First", "Hello one");
            outbox.Queue("test.kind", null, "two@example.edu", "Second", "Hello two\nhttps://example.org/link");
            await sp.GetRequiredService<Meta.ComputeAccess.Data.PortalDbContext>().SaveChangesAsync();
        });

        var sent = await factory.WithScopeAsync(sp => sp.GetRequiredService<OutboxDeliveryJob>().RunAsync());
        var sentAgain = await factory.WithScopeAsync(sp => sp.GetRequiredService<OutboxDeliveryJob>().RunAsync());

        Assert.Equal(2, sent);
        Assert.Equal(0, sentAgain);
        var files = Directory.GetFiles(factory.Folder, "*.eml");
        Assert.Equal(2, files.Length);
        Assert.Contains(files, f => File.ReadAllText(f).Contains("Subject: Second", StringComparison.Ordinal));
        await using var db = factory.NewDbContext();
        Assert.All(await db.OutboxMessages.ToListAsync(), m => Assert.Equal(OutboxStatus.Sent, m.Status));
    }
}

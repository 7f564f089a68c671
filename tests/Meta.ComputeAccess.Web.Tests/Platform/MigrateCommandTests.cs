using Hangfire;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Operations;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Platform;

/// <summary>
/// Production runs <c>migrate</c> once, as a job, before any instance starts: it alone changes the schema (the portal's
/// and Hangfire's) and makes the first data-protection key, which every instance then shares.
/// </summary>
public sealed class MigrateCommandTests(MigrateCommandTests.EmptyDatabase portal) : IClassFixture<MigrateCommandTests.EmptyDatabase>
{
    public sealed class EmptyDatabase : PortalFactory
    {
        public override async Task InitializeAsync() => ConnectionString = await TestDatabases.CreateEmptyAsync("migrate");

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            // Before `migrate` there are no tables: the key ring's and EF's errors about them are this test's premise.
            builder.UseSetting("Serilog:MinimumLevel:Override:Microsoft.AspNetCore.DataProtection", "Fatal");
            builder.UseSetting("Serilog:MinimumLevel:Override:Microsoft.EntityFrameworkCore", "Fatal");
        }
    }

    [Fact]
    public async Task A_serving_portal_leaves_the_schema_alone_and_migrate_makes_it_with_one_shared_key_and_runs_again_without_changes()
    {
        // What an instance does with its job storage: no schema appears.
        _ = portal.Services.GetRequiredService<JobStorage>();
        Assert.Equal(0, await HangfireTablesAsync());

        Assert.Equal(0, await PortalCommands.Parse(["migrate"])!.RunAsync(portal.Services));
        Assert.Equal(0, await PortalCommands.Parse(["migrate"])!.RunAsync(portal.Services));

        await using var db = portal.NewDbContext();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.True(await HangfireTablesAsync() > 0);
        Assert.Equal(1, await db.DataProtectionKeys.CountAsync());
    }

    private async Task<long> HangfireTablesAsync()
    {
        await using var db = portal.NewDbContext();
        return await db.Database.SqlQuery<long>($"SELECT count(*) AS \"Value\" FROM information_schema.tables WHERE table_schema = 'hangfire'").SingleAsync();
    }
}

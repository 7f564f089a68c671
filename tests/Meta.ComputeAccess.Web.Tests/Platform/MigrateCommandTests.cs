using System.Diagnostics;
using Hangfire;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Operations;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Platform;

/// <summary>
/// The <c>migrate</c> command, which production runs once, as a job, before any instance starts: as deploy/local/start.sh
/// runs it (a process of its own, on a brand-new database), and as the one thing that changes the schema (the portal's
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

    [Fact]
    public async Task Migrating_a_new_database_logs_no_error_and_a_second_run_finds_it_up_to_date()
    {
        var cs = await TestDatabases.CreateEmptyAsync("migratecommand");
        try
        {
            var first = await RunMigrateAsync(cs);
            var second = await RunMigrateAsync(cs);

            Assert.True(first.ExitCode == 0, first.Output);
            Assert.Contains("Applied ", first.Output, StringComparison.Ordinal);
            // The start of a new installation must not look broken: no error line at all (EF once logged two, probing for
            // its history table by reading it before creating it).
            Assert.DoesNotContain(" ERR]", first.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Failed executing DbCommand", first.Output, StringComparison.Ordinal);
            Assert.True(second.ExitCode == 0, second.Output);
            Assert.Contains("is up to date", second.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(" ERR]", second.Output, StringComparison.Ordinal);
        }
        finally
        {
            await TestDatabases.DropAsync(cs);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunMigrateAsync(string connectionString)
    {
        var portal = typeof(Program).Assembly.Location;
        var start = new ProcessStartInfo("dotnet", [portal, "migrate"])
        {
            WorkingDirectory = Path.GetDirectoryName(portal)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Development, as start.sh runs it: log lines are text ("[07:08:27 ERR] ...").
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ConnectionStrings__Portal"] = connectionString;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the portal's migrate command.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

    private async Task<long> HangfireTablesAsync()
    {
        await using var db = portal.NewDbContext();
        return await db.Database.SqlQuery<long>($"SELECT count(*) AS \"Value\" FROM information_schema.tables WHERE table_schema = 'hangfire'").SingleAsync();
    }
}

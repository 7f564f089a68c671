using System.Diagnostics;
using Meta.ComputeAccess.Testing;

namespace Meta.ComputeAccess.Web.Tests.Platform;

/// <summary>The <c>migrate</c> command as deploy/local/start.sh runs it: a process of its own, on a brand-new database.</summary>
public sealed class MigrateCommandTests
{
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
}

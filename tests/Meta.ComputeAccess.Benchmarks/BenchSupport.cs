using System.Diagnostics;
using Npgsql;

namespace Meta.ComputeAccess.Benchmarks;

/// <summary>What the end-to-end benchmarks share: options, the Release build of the portal, a free port, SQL.</summary>
internal static class BenchSupport
{
    /// <summary>The admin connection string from <c>--pg</c>, PORTAL_BENCH_PG or PORTAL_TEST_PG.</summary>
    public static string? AdminConnectionString(string[] args) =>
        Option(args, "--pg") ?? Environment.GetEnvironmentVariable("PORTAL_BENCH_PG") ?? Environment.GetEnvironmentVariable("PORTAL_TEST_PG");

    public static string? FindWebDll()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Meta.ComputeAccess.sln")))
            {
                return Path.Combine(dir.FullName, "src", "Meta.ComputeAccess.Web", "bin", "Release", "net10.0", "Meta.ComputeAccess.Web.dll");
            }
        }
        return null;
    }

    public static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static async Task WaitUntilLiveAsync(HttpClient http)
    {
        for (var i = 0; i < 120; i++)
        {
            try
            {
                using var response = await http.GetAsync(new Uri("/health/live", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(500);
        }
        throw new TimeoutException("The portal did not start within a minute.");
    }

    public static async Task ExecuteAsync(string cs, string sql)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync();
    }

    public static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>Stops a portal process started by a benchmark (it and its children only).</summary>
    public static async Task StopAsync(Process? process)
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Meta.ComputeAccess.Benchmarks;

/// <summary>
/// The pages benchmark's baseline: a bare ASP.NET Core endpoint (minimal API, Kestrel, no authentication, no EF, no
/// Razor) that reads one researcher's 12 most recent proposals with raw Npgsql and writes them as a small HTML table.
/// It is what a page costs with nothing of the portal around it; the pages benchmark starts it as its own process
/// (<c>pages-baseline --pg CS --port N</c>) on the benchmark's database and divides every scenario's throughput by its.
/// </summary>
public sealed class BaselinePageServer : IBenchmark
{
    public string Name => "pages-baseline";

    public string Description => "(started by 'pages') the raw-Npgsql baseline page server --pg CS --port N";

    public const string Path = "/baseline";

    private const string Query = """
        SELECT p.id, p.title, p.status, p.submitted_at
        FROM proposals p
        WHERE p.pi_user_id = $1
        ORDER BY p.created_at DESC
        LIMIT 12
        """;

    public async Task<int> RunAsync(string[] args)
    {
        var cs = PortalHarness.Option(args, "--pg");
        var port = PortalHarness.Option(args, "--port");
        if (cs is null || port is null)
        {
            Console.Error.WriteLine("pages-baseline needs --pg CS --port N (the pages benchmark starts it).");
            return 2;
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var dataSource = NpgsqlDataSource.Create(cs);
        await using var app = builder.Build();
        app.MapGet("/health/live", () => "ok");
        app.MapGet(Path, async (Guid user, HttpContext http) =>
        {
            var html = new StringBuilder("<!DOCTYPE html><html><head><title>Your proposals</title></head><body><h1>Your proposals</h1><table>");
            await using (var command = dataSource.CreateCommand(Query))
            {
                command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = user });
                await using var reader = await command.ExecuteReaderAsync(http.RequestAborted);
                while (await reader.ReadAsync(http.RequestAborted))
                {
                    var submitted = reader.IsDBNull(3) ? "" : reader.GetFieldValue<DateTimeOffset>(3).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
                    html.Append(CultureInfo.InvariantCulture,
                        $"<tr><td><a href=\"/Proposals/Details/{reader.GetGuid(0)}\">{HtmlEncoder.Default.Encode(reader.GetString(1))}</a></td><td>{HtmlEncoder.Default.Encode(reader.GetString(2))}</td><td>{submitted}</td></tr>");
                }
            }
            html.Append("</table></body></html>");
            return Results.Content(html.ToString(), "text/html; charset=utf-8");
        });
        await app.RunAsync();
        return 0;
    }

    /// <summary>Starts this server as its own process (the benchmark's own dll with <c>pages-baseline</c>).</summary>
    public static Process Start(string cs, int port)
    {
        var self = typeof(BaselinePageServer).Assembly.Location;
        var start = new ProcessStartInfo("dotnet") { ArgumentList = { self, "pages-baseline", "--pg", cs, "--port", port.ToString(CultureInfo.InvariantCulture) }, RedirectStandardError = true };
        start.Environment["DOTNET_gcServer"] = "1";
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine("  baseline: " + e.Data); } };
        process.BeginErrorReadLine();
        return process;
    }
}

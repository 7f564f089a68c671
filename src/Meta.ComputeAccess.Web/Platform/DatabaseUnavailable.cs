using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Meta.ComputeAccess.Web.Platform;

/// <summary>
/// Answers <c>503 Service Unavailable</c> with <c>Retry-After: 5</c> instead of a 500 when a request fails because
/// PostgreSQL is down, restarting or refusing connections. Every write in the portal runs in a transaction that such a
/// failure rolls back, so the answer can honestly say that nothing was changed and the request can be sent again.
/// </summary>
/// <remarks>
/// Pages get a self-contained HTML page: the friendly error page's layout reads the database (notification bell), so
/// re-executing it while the database is away would fail again and end in a bare 500.
/// The connection pool is cleared on such a failure: after a restart every idle pooled connection is dead, and
/// clearing the pool makes the next request open a fresh one instead of failing on a stale one.
/// </remarks>
internal sealed partial class DatabaseUnavailableHandler(ILogger<DatabaseUnavailableHandler> log) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public const string Message = "The portal's database is not reachable at the moment (it may be restarting). Nothing was changed; retry in a few seconds.";

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (DatabaseUnavailable.Find(exception) is not { } cause)
        {
            return false;
        }
        // Idle connections of a restarted server are dead: let the next request open new ones.
        NpgsqlConnection.ClearAllPools();
        // The exception handler middleware has already rewritten Request.Path to /Error: the original is in the feature.
        var path = httpContext.Features.Get<IExceptionHandlerPathFeature>()?.Path ?? httpContext.Request.Path.Value ?? "/";
        LogUnavailable(httpContext.Request.Method, path, cause.GetType().Name, (cause as PostgresException)?.SqlState, cause.Message);
        if (httpContext.Response.HasStarted)
        {
            return false;
        }

        var response = httpContext.Response;
        response.Clear();
        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers.CacheControl = "no-store";
        var requestId = Activity.Current?.Id ?? httpContext.TraceIdentifier;
        if (path.StartsWith("/api/", StringComparison.OrdinalIgnoreCase) || path.StartsWith("/health/", StringComparison.OrdinalIgnoreCase))
        {
            var problem = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = Message,
                Extensions = { ["requestId"] = requestId, ["retryAfterSeconds"] = RetryAfterSeconds },
            };
            await response.WriteAsJsonAsync(problem, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json", cancellationToken);
            return true;
        }

        response.ContentType = "text/html; charset=utf-8";
        await response.WriteAsync($"""
            <!DOCTYPE html>
            <html lang="en">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Temporarily unavailable - Meta Compute Access</title></head>
            <body>
            <main style="max-width:40rem;margin:3rem auto;font-family:system-ui,sans-serif">
            <h1>Temporarily unavailable</h1>
            <p>The portal cannot reach its database at the moment; it is probably restarting. Nothing you sent was saved.</p>
            <p>Wait a few seconds and <a href="{HtmlEncoder.Default.Encode(httpContext.Request.PathBase + path + httpContext.Request.QueryString)}">try again</a>.</p>
            <p><small>Reference: <code>{HtmlEncoder.Default.Encode(requestId)}</code></small></p>
            </main>
            </body>
            </html>
            """, cancellationToken);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database unavailable during {Method} {Path}: {ExceptionType} {SqlState} {Reason}; answered 503")]
    private partial void LogUnavailable(string method, string path, string exceptionType, string? sqlState, string reason);
}

/// <summary>Tells a transient database outage (server down, restarting, refusing or dropping connections) from other failures.</summary>
public static class DatabaseUnavailable
{
    /// <summary>SQLSTATEs that mean the server is going away or not accepting connections yet.</summary>
    private static readonly HashSet<string> OutageStates = new(StringComparer.Ordinal)
    {
        PostgresErrorCodes.AdminShutdown,          // 57P01: pg_ctl stop/restart -m fast
        PostgresErrorCodes.CrashShutdown,          // 57P02
        PostgresErrorCodes.CannotConnectNow,       // 57P03: starting up or shutting down
        PostgresErrorCodes.DatabaseDropped,        // 57P04
        PostgresErrorCodes.TooManyConnections,     // 53300
        PostgresErrorCodes.ConnectionException,    // 08000
        PostgresErrorCodes.ConnectionDoesNotExist, // 08003
        PostgresErrorCodes.ConnectionFailure,      // 08006
        PostgresErrorCodes.SqlClientUnableToEstablishSqlConnection,      // 08001
        PostgresErrorCodes.SqlServerRejectedEstablishmentOfSqlConnection, // 08004
    };

    /// <summary>The exception in <paramref name="exception"/>'s chain that shows the database is unreachable, or null.</summary>
    public static Exception? Find(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg:
                    // A server error with SQLSTATE: only the outage classes count (not constraint or serialization errors).
                    return OutageStates.Contains(pg.SqlState) ? pg : null;
                case NpgsqlException npgsql when npgsql.IsTransient || npgsql.InnerException is SocketException or IOException or TimeoutException:
                    return npgsql;
                case SocketException:
                    return e;
                case AggregateException aggregate:
                    return aggregate.InnerExceptions.Select(Find).FirstOrDefault(x => x is not null);
                default:
                    break;
            }
        }
        return null;
    }

    public static bool Is(Exception? exception) => Find(exception) is not null;
}

using System.Collections.Concurrent;

namespace Meta.ComputeAccess.Web.Api;

/// <summary>
/// Failed cluster-token sign-ins per client address, in fixed windows of a minute. Once an address has presented
/// <c>RateLimits:ClusterTokenFailuresPerMinute</c> unknown or revoked tokens in a window, its bearer requests are
/// answered 429 until the window ends, before any database lookup; a valid token from that address waits too, since
/// telling it apart would take the lookup. Logged twice per address and window at most (the first failure, and the
/// moment the address is held), not once per request.
/// </summary>
/// <remarks>
/// Kept in each instance's memory, not in PostgreSQL: a shared counter would cost a database round trip per bad token,
/// which is the cost this limit exists to avoid. With N instances an address gets at most N times the limit.
/// </remarks>
public sealed partial class ClusterTokenFailures(IConfiguration configuration, TimeProvider clock, ILogger<ClusterTokenFailures> logger)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly int limit = Math.Max(1, configuration.GetValue("RateLimits:ClusterTokenFailuresPerMinute", 10));

    private readonly ConcurrentDictionary<string, Failures> windows = new(StringComparer.Ordinal);

    private DateTimeOffset lastSweep = DateTimeOffset.MinValue;

    private readonly record struct Failures(DateTimeOffset WindowStart, int Count);

    /// <summary>How long <paramref name="client"/> must wait before its next token is looked at; null when it may send one now.</summary>
    public TimeSpan? HeldFor(string client)
    {
        var now = clock.GetUtcNow();
        return windows.TryGetValue(client, out var failures) && failures.Count >= limit && now < failures.WindowStart + Window
            ? failures.WindowStart + Window - now
            : null;
    }

    /// <summary>Counts one unknown or revoked token presented by <paramref name="client"/>.</summary>
    public void Record(string client)
    {
        var now = clock.GetUtcNow();
        var failures = windows.AddOrUpdate(client, _ => new Failures(now, 1),
            (_, current) => now >= current.WindowStart + Window ? new Failures(now, 1) : current with { Count = current.Count + 1 });
        if (failures.Count == 1)
        {
            LogRefused(logger);
        }
        if (failures.Count == limit)
        {
            LogHeld(logger, limit, (int)Math.Ceiling(Window.TotalSeconds));
        }
        Sweep(now);
    }

    /// <summary>Forgets ended windows, at most once a window, so addresses that stopped trying take no memory.</summary>
    private void Sweep(DateTimeOffset now)
    {
        if (now < lastSweep + Window)
        {
            return;
        }
        lastSweep = now;
        foreach (var (client, failures) in windows)
        {
            if (now >= failures.WindowStart + Window)
            {
                windows.TryRemove(new KeyValuePair<string, Failures>(client, failures));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A cluster API request presented an unknown or revoked token (further ones from the same address in this minute are not logged)")]
    private static partial void LogRefused(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A client presented {Failures} unknown or revoked cluster tokens within a minute; its token requests get 429 for up to {Seconds} seconds")]
    private static partial void LogHeld(ILogger logger, int failures, int seconds);
}

using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Identity;

/// <summary>Counts requests in shared fixed windows (table <c>rate_limit_windows</c>); one atomic statement per request.</summary>
public sealed class RateLimitWindows(PortalDbContext db)
{
    /// <summary>Adds <paramref name="permits"/> to the client key's window ending at <paramref name="endsAt"/> and returns the window's new count.</summary>
    public async Task<int> CountAsync(string clientKey, DateTimeOffset endsAt, int permits, CancellationToken cancellationToken)
    {
        var key = clientKey.Length <= RateLimitWindow.KeyMaxLength ? clientKey : clientKey[..RateLimitWindow.KeyMaxLength];
        // One round trip, atomic under concurrency: the first request of a window inserts, the others increment.
        var counts = await db.Database.SqlQuery<int>($"""
            INSERT INTO rate_limit_windows AS w (client_key, ends_at, count) VALUES ({key}, {endsAt}, {permits})
            ON CONFLICT (client_key, ends_at) DO UPDATE SET count = w.count + excluded.count
            RETURNING w.count AS "Value"
            """).ToListAsync(cancellationToken);
        return counts[0];
    }
}

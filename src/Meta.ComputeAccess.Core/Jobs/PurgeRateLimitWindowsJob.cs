using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Meta.ComputeAccess.Jobs;

/// <summary>Deletes rate-limit windows that have ended: they no longer limit anyone, and they hold client addresses.</summary>
public sealed partial class PurgeRateLimitWindowsJob(PortalDbContext db, TimeProvider clock, ILogger<PurgeRateLimitWindowsJob> logger)
{
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var removed = await db.RateLimitWindows.Where(w => w.EndsAt <= now).ExecuteDeleteAsync(cancellationToken);
        LogPurged(logger, removed);
        return removed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} ended rate-limit windows")]
    private static partial void LogPurged(ILogger logger, int count);
}

using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Meta.ComputeAccess.Jobs;

/// <summary>
/// Keeps <c>user_sessions</c> bounded. Sessions end within hours (the absolute limit), so rows started more than
/// <see cref="Retention"/> ago are history no page shows.
/// </summary>
public sealed partial class PurgeUserSessionsJob(PortalDbContext db, TimeProvider clock, ILogger<PurgeUserSessionsJob> logger)
{
    public static readonly TimeSpan Retention = TimeSpan.FromDays(30);

    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        var cutoff = clock.GetUtcNow() - Retention;
        var removed = await db.UserSessions.Where(s => s.StartedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        LogPurged(logger, removed);
        return removed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} old sessions")]
    private static partial void LogPurged(ILogger logger, int count);
}

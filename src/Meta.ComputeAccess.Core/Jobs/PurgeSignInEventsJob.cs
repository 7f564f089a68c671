using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Meta.ComputeAccess.Jobs;

/// <summary>
/// Keeps <c>sign_in_events</c> bounded: attempts older than <see cref="Retention"/> are deleted. The page shows the
/// last 50 only; older rows would be personal data (addresses, browsers) kept for no one.
/// </summary>
public sealed partial class PurgeSignInEventsJob(PortalDbContext db, TimeProvider clock, ILogger<PurgeSignInEventsJob> logger)
{
    public static readonly TimeSpan Retention = TimeSpan.FromDays(180);

    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        var cutoff = clock.GetUtcNow() - Retention;
        var removed = await db.SignInEvents.Where(e => e.At < cutoff).ExecuteDeleteAsync(cancellationToken);
        LogPurged(logger, removed);
        return removed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} sign-in events older than the retention")]
    private static partial void LogPurged(ILogger logger, int count);
}

using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Meta.ComputeAccess.Jobs;

/// <summary>
/// Keeps <c>user_sessions</c> and <c>sign_in_throttles</c> bounded. Sessions end within hours (the absolute limit),
/// so rows started more than <see cref="SessionRetention"/> ago are history no page shows. Wrong-password counts
/// untouched for <see cref="ThrottleRetention"/> and not pausing anything are forgotten, alike for every address.
/// </summary>
public sealed partial class PurgeSignInStateJob(PortalDbContext db, TimeProvider clock, ILogger<PurgeSignInStateJob> logger)
{
    public static readonly TimeSpan SessionRetention = TimeSpan.FromDays(30);

    public static readonly TimeSpan ThrottleRetention = TimeSpan.FromDays(1);

    public async Task<(int Sessions, int Throttles)> RunAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var sessionCutoff = now - SessionRetention;
        var throttleCutoff = now - ThrottleRetention;
        var sessions = await db.UserSessions.Where(s => s.StartedAt < sessionCutoff).ExecuteDeleteAsync(cancellationToken);
        var throttles = await db.SignInThrottles
            .Where(t => t.LastFailedAt < throttleCutoff && (t.PausedUntil == null || t.PausedUntil < now))
            .ExecuteDeleteAsync(cancellationToken);
        LogPurged(logger, sessions, throttles);
        return (sessions, throttles);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Sessions} old sessions and {Throttles} stale wrong-password counts")]
    private static partial void LogPurged(ILogger logger, int sessions, int throttles);
}

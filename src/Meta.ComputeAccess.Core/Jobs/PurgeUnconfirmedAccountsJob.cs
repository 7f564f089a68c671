using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Meta.ComputeAccess.Jobs;

/// <summary>
/// Removes registrations whose email was never confirmed within <see cref="Retention"/>: their confirmation
/// links have expired, the address may not even belong to the person who typed it, and an unconfirmed account
/// cannot sign in or own anything. Closed accounts (no confirmed address either) are not registrations: they stay, as
/// what their owners did points at them. Running it twice removes nothing more.
/// </summary>
public sealed partial class PurgeUnconfirmedAccountsJob(PortalDbContext db, AuditLog audit, TimeProvider clock, ILogger<PurgeUnconfirmedAccountsJob> logger)
{
    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        var cutoff = clock.GetUtcNow() - Retention;
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        // Locked, so an account confirmed meanwhile waits for this transaction and is not removed half-way.
        var expired = (await db.Users
            .FromSql($"SELECT * FROM users WHERE NOT email_confirmed AND closed_at IS NULL AND created_at < {cutoff} FOR UPDATE")
            .AsNoTracking()
            .ToListAsync(cancellationToken)).Select(u => u.Id).ToList();
        foreach (var id in expired)
        {
            audit.Record(null, "account.purged", "user", id.ToString(), $"Removed an account whose email was not confirmed within {Retention.TotalDays:0} days");
        }
        await db.SaveChangesAsync(cancellationToken);
        var removed = await db.Users.Where(u => expired.Contains(u.Id)).ExecuteDeleteAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        LogPurged(logger, removed);
        return removed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} unconfirmed accounts")]
    private static partial void LogPurged(ILogger logger, int count);
}

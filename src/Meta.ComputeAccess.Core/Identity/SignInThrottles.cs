using System.Security.Cryptography;
using System.Text;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Identity;

/// <summary>
/// Wrong passwords per typed email address, whether or not an account has it, counted in the shared fixed windows of
/// <see cref="RateLimitWindows"/> (the same table and statement as the per-client form-post limit): once a window holds
/// the allowed number, sign-in to the address is paused until the window ends. The address is kept only as a hash.
/// A right password or a password reset forgets the count; ended windows go with the rate-limit purge job.
/// See docs/decisions/0006-sign-in-answers-alike.md.
/// </summary>
public sealed class SignInThrottles(PortalDbContext db, RateLimitWindows windows, TimeProvider clock)
{
    /// <summary>Prefix of these keys in <c>rate_limit_windows</c>, beside the form-post limit's <c>accounts|</c>.</summary>
    public const string KeyPrefix = "wrong-password|";

    /// <summary>The window key of an address normalized as Identity does (<c>UserManager.NormalizeEmail</c>): a SHA-256, never the address.</summary>
    public static string KeyOf(string normalizedEmail) =>
        KeyPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalizedEmail)));

    /// <summary>Whether the current window of <paramref name="window"/> already holds <paramref name="attempts"/> wrong passwords for the address.</summary>
    public Task<bool> IsPausedAsync(string key, int attempts, TimeSpan window, CancellationToken cancellationToken = default)
    {
        var endsAt = RateLimitWindow.WindowEnd(clock.GetUtcNow(), window);
        return db.RateLimitWindows.AnyAsync(w => w.ClientKey == key && w.EndsAt == endsAt && w.Count >= attempts, cancellationToken);
    }

    /// <summary>Counts a wrong password for the address (one atomic upsert, so concurrent guesses all count); returns whether the address is paused now.</summary>
    public async Task<bool> FailedAsync(string key, int attempts, TimeSpan window, CancellationToken cancellationToken = default) =>
        await windows.CountAsync(key, RateLimitWindow.WindowEnd(clock.GetUtcNow(), window), 1, cancellationToken) >= attempts;

    /// <summary>Forgets the address's wrong passwords and pause: a right password, or a password reset through its mailbox.</summary>
    public Task ClearAsync(string key, CancellationToken cancellationToken = default) =>
        db.RateLimitWindows.Where(w => w.ClientKey == key).ExecuteDeleteAsync(cancellationToken);
}

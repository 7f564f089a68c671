using System.Security.Cryptography;
using System.Text;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Identity;

/// <summary>
/// Counts wrong passwords per typed address (<see cref="SignInThrottle"/>) and pauses sign-in to the address after too
/// many, alike for addresses with and without an account. Each method saves itself in one statement, outside the
/// caller's unit of work.
/// </summary>
public sealed class SignInThrottles(PortalDbContext db, TimeProvider clock)
{
    /// <summary>The row key of an address normalized as Identity does (<c>UserManager.NormalizeEmail</c>).</summary>
    public static string KeyOf(string normalizedEmail) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalizedEmail)));

    /// <summary>Whether sign-in to the address is paused now.</summary>
    public Task<bool> IsPausedAsync(string key, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        return db.SignInThrottles.AnyAsync(t => t.AddressKey == key && t.PausedUntil > now, cancellationToken);
    }

    /// <summary>
    /// Counts a wrong password for the address; the <paramref name="attempts"/>-th in a row pauses it for
    /// <paramref name="pause"/> and starts the count again. One atomic upsert, so concurrent guesses all count.
    /// Returns whether the address is paused now.
    /// </summary>
    public async Task<bool> FailedAsync(string key, int attempts, TimeSpan pause, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var until = now + pause;
        var paused = await db.Database.SqlQuery<bool>($"""
            INSERT INTO sign_in_throttles AS t (address_key, failed_count, paused_until, last_failed_at)
            VALUES ({key}, 1, NULL, {now})
            ON CONFLICT (address_key) DO UPDATE SET
                failed_count = CASE WHEN t.failed_count + 1 >= {attempts} THEN 0 ELSE t.failed_count + 1 END,
                paused_until = CASE WHEN t.failed_count + 1 >= {attempts} THEN {until} ELSE t.paused_until END,
                last_failed_at = {now}
            RETURNING coalesce(t.paused_until > {now}, false) AS "Value"
            """).ToListAsync(cancellationToken);
        return paused.Single();
    }

    /// <summary>Forgets the address's wrong passwords and pause: a right password, or a password reset through its mailbox.</summary>
    public Task ClearAsync(string key, CancellationToken cancellationToken = default) =>
        db.SignInThrottles.Where(t => t.AddressKey == key).ExecuteDeleteAsync(cancellationToken);
}

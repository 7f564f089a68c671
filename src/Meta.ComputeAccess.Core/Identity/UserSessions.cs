using System.Net;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Identity;

/// <summary>
/// Signed-in sessions on the server (<see cref="UserSession"/>): started at sign-in, checked on every request with one
/// primary-key lookup, ended by signing out. Each method saves itself with one statement and leaves the caller's
/// unit of work alone: sessions start and are checked inside the cookie handler, in the middle of other requests' work.
/// </summary>
public sealed class UserSessions(PortalDbContext db, TimeProvider clock)
{
    /// <summary><see cref="UserSession.LastSeenAt"/> is written at most this often, so a busy session costs one write a minute, not one per request.</summary>
    public static readonly TimeSpan LastSeenPrecision = TimeSpan.FromMinutes(1);

    /// <summary>What the per-request check reads of a session.</summary>
    public sealed record State(Guid UserId, DateTimeOffset LastSeenAt, DateTimeOffset? EndedAt);

    /// <summary>Starts a session for a sign-in and returns its id, for the sign-in cookie.</summary>
    public async Task<Guid> StartAsync(Guid userId, bool persistent, IPAddress? clientAddress, string? userAgent, CancellationToken cancellationToken = default)
    {
        var s = UserSession.Start(userId, clock.GetUtcNow(), persistent, clientAddress, userAgent);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO user_sessions (id, user_id, started_at, last_seen_at, persistent, client_address, user_agent)
            VALUES ({s.Id}, {s.UserId}, {s.StartedAt}, {s.LastSeenAt}, {s.Persistent}, {s.ClientAddress}, {s.UserAgent})
            """, cancellationToken);
        return s.Id;
    }

    /// <summary>
    /// Whether the session <paramref name="state"/> (as the per-request check read it, null when there is none with that
    /// id) exists, belongs to <paramref name="userId"/> and has not ended; notes the request as its last use (at most once
    /// per <see cref="LastSeenPrecision"/>). The read is the caller's, so that the request's other questions share its
    /// round trip (<c>PortalTerms.CheckSignedInAsync</c>).
    /// </summary>
    public async Task<bool> IsActiveAsync(State? state, Guid sessionId, Guid userId, CancellationToken cancellationToken = default)
    {
        if (state is null || state.EndedAt is not null || state.UserId != userId)
        {
            return false;
        }
        var now = clock.GetUtcNow();
        if (now - state.LastSeenAt >= LastSeenPrecision)
        {
            await db.UserSessions.Where(s => s.Id == sessionId && s.EndedAt == null)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.LastSeenAt, now), cancellationToken);
        }
        return true;
    }

    /// <summary>Ends one session (signing out); ending an ended one changes nothing.</summary>
    public Task EndAsync(Guid sessionId, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        return db.UserSessions.Where(s => s.Id == sessionId && s.EndedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.EndedAt, now), cancellationToken);
    }

    /// <summary>Ends one of <paramref name="userId"/>'s open sessions ("end this session"); false when it is not theirs or already ended.</summary>
    public async Task<bool> EndAsync(Guid userId, Guid sessionId, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        return await db.UserSessions.Where(s => s.Id == sessionId && s.UserId == userId && s.EndedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.EndedAt, now), cancellationToken) == 1;
    }

    /// <summary>Ends every open session of <paramref name="userId"/> ("sign out everywhere"), at once.</summary>
    public Task<int> EndAllAsync(Guid userId, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        return db.UserSessions.Where(s => s.UserId == userId && s.EndedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.EndedAt, now), cancellationToken);
    }
}

/// <summary>The limits a session ends by without being ended on the server (the cookie's idle and absolute limits).</summary>
public sealed record SessionTimeouts(TimeSpan Idle, TimeSpan PersistentIdle, TimeSpan Absolute);

public static class UserSessionScopes
{
    /// <summary>
    /// <paramref name="userId"/>'s sessions still usable at <paramref name="now"/>: not ended, within the absolute limit,
    /// and used within their idle limit (give or take <see cref="UserSessions.LastSeenPrecision"/>).
    /// </summary>
    public static IQueryable<UserSession> OpenFor(this IQueryable<UserSession> sessions, Guid userId, DateTimeOffset now, SessionTimeouts timeouts)
    {
        var startedAfter = now - timeouts.Absolute;
        var idleSince = now - timeouts.Idle - UserSessions.LastSeenPrecision;
        var persistentIdleSince = now - timeouts.PersistentIdle - UserSessions.LastSeenPrecision;
        return sessions.Where(s => s.UserId == userId && s.EndedAt == null && s.StartedAt > startedAfter
                                   && (s.Persistent ? s.LastSeenAt > persistentIdleSince : s.LastSeenAt > idleSince));
    }
}

using System.Net;

namespace Meta.ComputeAccess.Identity;

/// <summary>
/// One signed-in browser. Its id travels in the sign-in cookie, and every request checks the row
/// (<see cref="UserSessions.IsActiveAsync"/>), so signing out, "sign out everywhere" and "end this session" end the
/// cookie on the server at once: a copy of the cookie stops working with it. Rows are purged a while after they end.
/// </summary>
public sealed class UserSession
{
    public Guid Id { get; private set; }

    public Guid UserId { get; private set; }

    public DateTimeOffset StartedAt { get; private set; }

    /// <summary>The last request, written at most once per <see cref="UserSessions.LastSeenPrecision"/>.</summary>
    public DateTimeOffset LastSeenAt { get; private set; }

    /// <summary>Set when the session was ended on the server; an ended session never comes back.</summary>
    public DateTimeOffset? EndedAt { get; private set; }

    /// <summary>"Keep me signed in": the longer idle limit applies.</summary>
    public bool Persistent { get; private set; }

    /// <summary>The client's address at sign-in, as the forwarded-headers middleware resolved it.</summary>
    public IPAddress? ClientAddress { get; private set; }

    public string UserAgent { get; private set; } = "";

    private UserSession()
    {
    }

    public static UserSession Start(Guid userId, DateTimeOffset now, bool persistent, IPAddress? clientAddress, string? userAgent) => new()
    {
        Id = Guid.CreateVersion7(now),
        UserId = userId,
        StartedAt = now,
        LastSeenAt = now,
        Persistent = persistent,
        ClientAddress = clientAddress,
        UserAgent = SignInEvent.Truncate(userAgent),
    };
}

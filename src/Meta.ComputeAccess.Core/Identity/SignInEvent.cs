using System.Net;

namespace Meta.ComputeAccess.Identity;

/// <summary>How one attempt to sign in to an existing account ended.</summary>
public enum SignInOutcome
{
    Succeeded,
    WrongPassword,
    LockedOut,
    EmailNotConfirmed,
    TwoFactorFailed,
    RecoveryCodeUsed,
}

/// <summary>
/// One sign-in attempt for an existing account, shown to its owner at /Account/Security. Attempts for unknown
/// addresses are not stored: there is no one to show them to. Rows older than the retention are purged.
/// </summary>
public sealed class SignInEvent
{
    public const int UserAgentMaxLength = 256;

    public long Id { get; private set; }

    public Guid UserId { get; private set; }

    public DateTimeOffset At { get; private set; }

    public SignInOutcome Outcome { get; private set; }

    /// <summary>The client's address as the forwarded-headers middleware resolved it (the proxy's client, not the proxy).</summary>
    public IPAddress? ClientAddress { get; private set; }

    public string UserAgent { get; private set; } = "";

    private SignInEvent()
    {
    }

    public static SignInEvent Create(Guid userId, DateTimeOffset at, SignInOutcome outcome, IPAddress? clientAddress, string? userAgent) => new()
    {
        UserId = userId,
        At = at,
        Outcome = outcome,
        ClientAddress = clientAddress,
        UserAgent = Truncate(userAgent),
    };

    /// <summary>User agents are client-controlled: cut to a fixed length and stripped of control characters.</summary>
    internal static string Truncate(string? userAgent)
    {
        if (string.IsNullOrEmpty(userAgent))
        {
            return "";
        }
        var clean = PlainText.WithoutControl(userAgent);
        return clean.Length <= UserAgentMaxLength ? clean : clean[..UserAgentMaxLength];
    }
}

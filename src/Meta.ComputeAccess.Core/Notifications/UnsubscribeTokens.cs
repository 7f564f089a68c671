using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Meta.ComputeAccess.Notifications;

/// <summary>
/// The token in an unsubscribe link: the user id and the kind of mail, encrypted and signed with the portal's
/// data-protection keys (shared by every instance through the database). It names nothing guessable, cannot be
/// altered to another user or kind, and needs no database row.
/// </summary>
public sealed class UnsubscribeTokens(IDataProtectionProvider dataProtection)
{
    /// <summary>The pseudo-kind of a digest's unsubscribe link: it turns off every kind the user receives as a digest.</summary>
    public const string DigestKind = "digest";

    private readonly IDataProtector protector = dataProtection.CreateProtector("Meta.ComputeAccess.Notifications.Unsubscribe.v1");

    public string Create(Guid userId, string kind)
    {
        if (kind != DigestKind && NotificationKinds.IsSecurity(kind))
        {
            throw new ArgumentException($"Security mail ({kind}) cannot be unsubscribed from.", nameof(kind));
        }
        return protector.Protect($"{userId:N}|{kind}");
    }

    /// <summary>Reads a token; false for anything tampered, truncated, from another installation, or naming a security kind.</summary>
    public bool TryRead(string? token, out Guid userId, out string kind)
    {
        userId = Guid.Empty;
        kind = "";
        if (string.IsNullOrWhiteSpace(token) || token.Length > 1000)
        {
            return false;
        }
        string payload;
        try
        {
            payload = protector.Unprotect(token);
        }
        catch (CryptographicException)
        {
            return false;
        }
        catch (FormatException)
        {
            return false;
        }
        var parts = payload.Split('|');
        if (parts.Length != 2 || !Guid.TryParseExact(parts[0], "N", out userId)
            || !(parts[1] == DigestKind || (NotificationKinds.IsKnown(parts[1]) && !NotificationKinds.IsSecurity(parts[1]))))
        {
            userId = Guid.Empty;
            return false;
        }
        kind = parts[1];
        return true;
    }
}

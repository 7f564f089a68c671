using System.Security.Cryptography;
using System.Text;

namespace Meta.ComputeAccess.Clusters;

/// <summary>
/// A cluster's API token. Only the SHA-256 of the secret is stored; the secret (<c>mca_</c> + 43 base64url
/// characters, 32 random bytes) is shown once at creation. <see cref="Prefix"/> lets admins tell tokens apart.
/// </summary>
public sealed class ClusterToken
{
    public const string SecretPrefix = "mca_";

    public Guid Id { get; private set; }

    public Guid ClusterId { get; private set; }

    public string Name { get; private set; } = "";

    /// <summary>The first characters of the secret, for example <c>mca_3kF9aQ</c>.</summary>
    public string Prefix { get; private set; } = "";

    public byte[] SecretHash { get; private set; } = [];

    public DateTimeOffset CreatedAt { get; private set; }

    public Guid? CreatedBy { get; private set; }

    public DateTimeOffset? LastUsedAt { get; private set; }

    public DateTimeOffset? RevokedAt { get; private set; }

    public Guid? RevokedBy { get; private set; }

    public bool IsRevoked => RevokedAt is not null;

    private ClusterToken()
    {
    }

    /// <summary>A new token and its secret; the secret exists only in the return value.</summary>
    public static (ClusterToken Token, string Secret) Create(Guid clusterId, string name, Guid? actor, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > 100)
        {
            throw new DomainException("A token needs a name of at most 100 characters, for example \"sacct cron on login1\".");
        }
        var secret = SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var token = new ClusterToken
        {
            Id = Guid.CreateVersion7(now),
            ClusterId = clusterId,
            Name = name.Trim(),
            Prefix = secret[..10],
            SecretHash = Hash(secret),
            CreatedAt = now,
            CreatedBy = actor,
        };
        return (token, secret);
    }

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public void Revoke(Guid? actor, DateTimeOffset now)
    {
        if (IsRevoked)
        {
            throw new DomainException("This token is already revoked.");
        }
        RevokedAt = now;
        RevokedBy = actor;
    }
}

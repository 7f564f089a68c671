using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Clusters;

/// <summary>Who a valid bearer token speaks for.</summary>
public sealed record ClusterCaller(Guid TokenId, Guid ClusterId, string ClusterSlug);

/// <summary>Creating, revoking and checking cluster API tokens; every change is audited.</summary>
public sealed class ClusterTokens(PortalDbContext db, AuditLog audit, TimeProvider clock)
{
    /// <summary>Creates a token for the cluster with <paramref name="slug"/>; the secret is returned once and never stored.</summary>
    public async Task<(ClusterToken Token, string Secret)> CreateAsync(string slug, string name, Guid? actor, CancellationToken cancellationToken = default)
    {
        var cluster = await db.Clusters.SingleOrDefaultAsync(c => c.Slug == slug, cancellationToken)
            ?? throw new DomainException($"No cluster has the slug '{slug}'.");
        var (token, secret) = ClusterToken.Create(cluster.Id, name, actor, clock.GetUtcNow());
        db.ClusterTokens.Add(token);
        audit.Record(actor, "cluster-token.created", "cluster", cluster.Id.ToString(), $"API token \"{token.Name}\" ({token.Prefix}…) created for {cluster.Name}");
        await db.SaveChangesAsync(cancellationToken);
        return (token, secret);
    }

    public async Task RevokeAsync(Guid tokenId, Guid? actor, CancellationToken cancellationToken = default)
    {
        var token = await db.ClusterTokens.SingleOrDefaultAsync(t => t.Id == tokenId, cancellationToken)
            ?? throw new DomainException("No such token.");
        token.Revoke(actor, clock.GetUtcNow());
        audit.Record(actor, "cluster-token.revoked", "cluster", token.ClusterId.ToString(), $"API token \"{token.Name}\" ({token.Prefix}…) revoked");
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>The caller of a presented secret, or null when it is unknown or revoked. Notes the last use (at most once a minute).</summary>
    public async Task<ClusterCaller?> AuthenticateAsync(string secret, CancellationToken cancellationToken = default)
    {
        if (!secret.StartsWith(ClusterToken.SecretPrefix, StringComparison.Ordinal) || secret.Length > 100)
        {
            return null;
        }
        var hash = ClusterToken.Hash(secret);
        var found = await (from t in db.ClusterTokens
                           join c in db.Clusters on t.ClusterId equals c.Id
                           where t.SecretHash == hash && t.RevokedAt == null
                           select new { t.Id, t.ClusterId, c.Slug, t.LastUsedAt }).AsNoTracking().SingleOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return null;
        }
        var now = clock.GetUtcNow();
        if (found.LastUsedAt is null || found.LastUsedAt < now.AddMinutes(-1))
        {
            await db.ClusterTokens.Where(t => t.Id == found.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), cancellationToken);
        }
        return new ClusterCaller(found.Id, found.ClusterId, found.Slug);
    }
}

using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Clusters;

/// <summary>What an admin says about a cluster: names, size and the time zone its Slurm prints times in.</summary>
public sealed record ClusterSpecification(string Name, string AcceleratorModel, int Nodes, int AcceleratorsPerNode, string SlurmClusterName, string TimeZoneId);

/// <summary>
/// Adds clusters and changes them (specification, time zone, status), each change checked by the cluster, audited
/// and saved once. Names and slugs are unique among clusters.
/// </summary>
public sealed class ClusterAdministration(PortalDbContext db, AuditLog audit, TimeProvider clock)
{
    private const string Conflict = "Someone else changed the clusters at the same moment; nothing was saved. Check the names and try again.";

    public async Task<Cluster> CreateAsync(string slug, ClusterSpecification specification, Guid admin, CancellationToken cancellationToken)
    {
        var cluster = Cluster.Create(specification.Name, slug, specification.AcceleratorModel, specification.Nodes, specification.AcceleratorsPerNode,
            specification.SlurmClusterName, clock.GetUtcNow(), specification.TimeZoneId);
        await EnsureUniqueAsync(cluster, cancellationToken);
        db.Clusters.Add(cluster);
        audit.Record(admin, "cluster.created", "cluster", cluster.Id.ToString(), $"Created cluster {cluster.Name}");
        await db.SaveChangesOrRefuseAsync(Conflict, cancellationToken);
        return cluster;
    }

    /// <summary>Changes the cluster's specification and, when it differs, its status (a retired cluster stays retired).</summary>
    public async Task<Cluster> UpdateAsync(string slug, ClusterSpecification specification, ClusterStatus status, Guid admin, CancellationToken cancellationToken)
    {
        var cluster = await db.Clusters.SingleOrDefaultAsync(c => c.Slug == slug, cancellationToken) ?? throw new DomainException("No such cluster.");
        cluster.Update(specification.Name, specification.AcceleratorModel, specification.Nodes, specification.AcceleratorsPerNode,
            specification.SlurmClusterName, specification.TimeZoneId);
        await EnsureUniqueAsync(cluster, cancellationToken);
        if (cluster.Status != status)
        {
            var was = cluster.Status;
            cluster.ChangeStatus(status);
            audit.Record(admin, "cluster.status", "cluster", cluster.Id.ToString(), $"{cluster.Name}: {was} → {status}");
        }
        audit.Record(admin, "cluster.updated", "cluster", cluster.Id.ToString(), $"Updated cluster {cluster.Name}");
        await db.SaveChangesOrRefuseAsync(Conflict, cancellationToken);
        return cluster;
    }

    private async Task EnsureUniqueAsync(Cluster cluster, CancellationToken cancellationToken)
    {
        var taken = await db.Clusters.AsNoTracking()
            .Where(c => c.Id != cluster.Id && (c.Name == cluster.Name || c.Slug == cluster.Slug))
            .Select(c => new { c.Name, c.Slug })
            .ToListAsync(cancellationToken);
        if (taken.Any(c => c.Name == cluster.Name))
        {
            throw new DomainException("Another cluster already has this name.", new Dictionary<string, string> { ["Name"] = "Choose another name." });
        }
        if (taken.Count > 0)
        {
            throw new DomainException("Another cluster already has this slug.", new Dictionary<string, string> { ["Slug"] = "Choose another slug." });
        }
    }
}

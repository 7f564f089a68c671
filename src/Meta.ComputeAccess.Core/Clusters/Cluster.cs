using System.Text.RegularExpressions;

namespace Meta.ComputeAccess.Clusters;

public enum ClusterStatus
{
    Available,
    Maintenance,
    Retired,
}

/// <summary>An accelerator cluster whose hours the program hands out.</summary>
public sealed partial class Cluster
{
    public Guid Id { get; private set; }

    public string Name { get; private set; } = "";

    /// <summary>URL and API name, for example <c>grand-teton</c>; never changes once created.</summary>
    public string Slug { get; private set; } = "";

    /// <summary>For example "H100 80GB" or "MTIA v2".</summary>
    public string AcceleratorModel { get; private set; } = "";

    public int Nodes { get; private set; }

    public int AcceleratorsPerNode { get; private set; }

    /// <summary>The cluster's name in Slurm (<c>sacctmgr</c> uses it).</summary>
    public string SlurmClusterName { get; private set; } = "";

    public ClusterStatus Status { get; private set; }

    /// <summary>
    /// The IANA time zone the cluster's Slurm prints times in (<c>sacct</c> writes local times without an offset);
    /// usage is read in it. UTC unless set.
    /// </summary>
    public string TimeZoneId { get; private set; } = "UTC";

    public DateTimeOffset CreatedAt { get; private set; }

    public int TotalAccelerators => Nodes * AcceleratorsPerNode;

    private Cluster()
    {
    }

    public static Cluster Create(string name, string slug, string acceleratorModel, int nodes, int acceleratorsPerNode, string slurmClusterName, DateTimeOffset now, string timeZoneId = "UTC")
    {
        if (!IsValidSlug(slug))
        {
            throw new DomainException("The slug must be 2 to 40 lowercase letters, digits or dashes, starting with a letter.");
        }
        var cluster = new Cluster { Id = Guid.CreateVersion7(now), Slug = slug, CreatedAt = now, Status = ClusterStatus.Available };
        cluster.Update(name, acceleratorModel, nodes, acceleratorsPerNode, slurmClusterName, timeZoneId);
        return cluster;
    }

    public void Update(string name, string acceleratorModel, int nodes, int acceleratorsPerNode, string slurmClusterName, string timeZoneId = "UTC")
    {
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(timeZoneId ?? "", out _))
        {
            throw new DomainException($"\"{timeZoneId}\" is not a time zone; use an IANA name such as Europe/Paris or UTC.");
        }
        if (string.IsNullOrWhiteSpace(name) || string.IsNullOrWhiteSpace(acceleratorModel) || string.IsNullOrWhiteSpace(slurmClusterName))
        {
            throw new DomainException("Name, accelerator model and Slurm cluster name are required.");
        }
        if (nodes is < 1 or > 100_000 || acceleratorsPerNode is < 1 or > 64)
        {
            throw new DomainException("A cluster has 1 to 100,000 nodes with 1 to 64 accelerators each.");
        }
        Name = name.Trim();
        AcceleratorModel = acceleratorModel.Trim();
        Nodes = nodes;
        AcceleratorsPerNode = acceleratorsPerNode;
        SlurmClusterName = slurmClusterName.Trim();
        TimeZoneId = timeZoneId!;
    }

    public void ChangeStatus(ClusterStatus status)
    {
        if (Status == ClusterStatus.Retired && status != ClusterStatus.Retired)
        {
            throw new DomainException("A retired cluster cannot be brought back; create a new one.");
        }
        Status = status;
    }

    public static bool IsValidSlug(string? slug) => slug is not null && SlugPattern().IsMatch(slug);

    [GeneratedRegex("^[a-z][a-z0-9-]{1,39}$")]
    private static partial Regex SlugPattern();
}

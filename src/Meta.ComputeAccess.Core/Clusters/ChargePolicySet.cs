namespace Meta.ComputeAccess.Clusters;

/// <summary>
/// The versions of one cluster's charge policy, loaded once per usage batch, pricing each job by the version in force at
/// its end. A job's rate per hour depends only on the version, its AllocTRES and its partition, so it is worked out once
/// per distinct combination (the parser interns both strings, so the cache compares references) and each job then costs
/// a multiplication.
/// </summary>
public sealed class ChargePolicySet
{
    private readonly ChargePolicy[] versions;
    private readonly Dictionary<Key, decimal> perHour = new(KeyComparer.Instance);

    /// <param name="versions">The cluster's versions in any order.</param>
    public ChargePolicySet(Guid clusterId, IEnumerable<ChargePolicy> versions)
    {
        ArgumentNullException.ThrowIfNull(versions);
        // Before its first version (or without any), a cluster charges the default rate 1 per GPU-hour.
        this.versions = [ChargePolicy.Default(clusterId), .. versions.OrderBy(v => v.EffectiveFrom).ThenBy(v => v.Version)];
    }

    /// <summary>The version in force at <paramref name="at"/>.</summary>
    public ChargePolicy At(DateTimeOffset at)
    {
        var index = IndexAt(at);
        return versions[index];
    }

    /// <summary>Units charged for a job that ended at <paramref name="end"/>, and the version that charged it (null for the default).</summary>
    public decimal Price(DateTimeOffset end, long elapsedSeconds, string? allocTres, string? partition, out Guid? policyId)
    {
        var index = IndexAt(end);
        var policy = versions[index];
        policyId = policy.Version == 0 ? null : policy.Id;
        var key = new Key(index, allocTres ?? "", partition ?? "");
        if (!perHour.TryGetValue(key, out var rate))
        {
            rate = policy.UnitsPerHour(allocTres, partition);
            perHour[key] = rate;
        }
        return ChargePolicy.Charge(elapsedSeconds, rate);
    }

    private int IndexAt(DateTimeOffset at)
    {
        // Usually one version, or a handful: a backwards scan beats a binary search.
        for (var i = versions.Length - 1; i > 0; i--)
        {
            if (at >= versions[i].EffectiveFrom)
            {
                return i;
            }
        }
        return 0;
    }

    private readonly record struct Key(int Version, string Tres, string Partition);

    /// <summary>
    /// By reference: the parser interns AllocTRES and partition strings, so equal text is one instance and hashing stays
    /// O(1) per job. Equal text in two instances only makes a second cache entry with the same rate.
    /// </summary>
    private sealed class KeyComparer : IEqualityComparer<Key>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals(Key x, Key y) => x.Version == y.Version && ReferenceEquals(x.Tres, y.Tres) && ReferenceEquals(x.Partition, y.Partition);

        public int GetHashCode(Key key) => HashCode.Combine(key.Version,
            System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(key.Tres), System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(key.Partition));
    }
}

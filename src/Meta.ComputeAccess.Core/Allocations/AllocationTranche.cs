namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// A later part of an award on one cluster (tranche 2, 3, …; tranche 1 is the grant itself): committed in the cluster's
/// capacity from the grant on, held outside the quota (<see cref="AllocationQuota.HeldHours"/>), so neither the ledger
/// nor the quota export counts it until it is released, by an admin with a reason or by an accepted progress report
/// (<see cref="AllocationService.ReleaseNextTrancheAsync"/>). The release is a <see cref="LedgerEntryKind.TrancheRelease"/> entry.
/// </summary>
public sealed class AllocationTranche
{
    public long Id { get; private set; }

    public Guid AllocationId { get; private set; }

    /// <summary>2 for the second tranche, and so on; released in order.</summary>
    public int Number { get; private set; }

    public Guid ClusterId { get; private set; }

    public decimal Hours { get; private set; }

    /// <summary>What releases it, for the people who read the allocation page.</summary>
    public string Condition { get; private set; } = "";

    public DateTimeOffset? ReleasedAt { get; private set; }

    public Guid? ReleasedBy { get; private set; }

    /// <summary>Why it was released (an admin's reason, or the accepted report), or why it was returned to capacity.</summary>
    public string? Outcome { get; private set; }

    /// <summary>True when it was returned to the cluster's capacity unreleased (the allocation closed early).</summary>
    public bool Cancelled { get; private set; }

    public bool IsPending => ReleasedAt is null && !Cancelled;

    private AllocationTranche()
    {
    }

    internal AllocationTranche(Guid allocationId, int number, Guid clusterId, decimal hours, string condition)
    {
        AllocationId = allocationId;
        Number = number;
        ClusterId = clusterId;
        Hours = hours;
        Condition = condition;
    }

    internal void Release(DateTimeOffset now, Guid? actor, string reason)
    {
        ReleasedAt = now;
        ReleasedBy = actor;
        Outcome = reason;
    }

    internal void Cancel(DateTimeOffset now, Guid? actor, string reason)
    {
        Cancelled = true;
        ReleasedAt = null;
        ReleasedBy = actor;
        Outcome = $"{now:yyyy-MM-dd}: {reason}";
    }

    /// <summary>
    /// Splits <paramref name="hours"/> by <paramref name="percents"/> (summing to 100): each share rounded to 6 decimals,
    /// the last one taking the remainder so the parts add up exactly.
    /// </summary>
    public static IReadOnlyList<decimal> Split(decimal hours, IReadOnlyList<int> percents)
    {
        ArgumentNullException.ThrowIfNull(percents);
        var parts = new decimal[percents.Count];
        var left = hours;
        for (var i = 0; i < percents.Count - 1; i++)
        {
            parts[i] = decimal.Round(hours * percents[i] / 100m, 6, MidpointRounding.ToEven);
            left -= parts[i];
        }
        parts[^1] = left;
        return parts;
    }

    /// <summary>Refuses shares that are not 1 to 10 whole percentages adding up to 100.</summary>
    public static void CheckPercents(IReadOnlyList<int>? percents)
    {
        if (percents is null || percents.Count == 0 || percents.Count > 10 || percents.Any(p => p is < 1 or > 100) || percents.Sum() != 100)
        {
            throw new DomainException("Tranches are 1 to 10 whole percentages that add up to 100, such as 50, 50.",
                new Dictionary<string, string> { ["Tranches"] = "For example 50, 50." });
        }
    }
}

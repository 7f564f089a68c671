namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// What one cluster offers in one period, in GPU-hours. <see cref="CommittedHours"/> caches the hours granted
/// to allocations of the period on the cluster; it changes only under a row lock (<see cref="CapacityGuard"/>),
/// and a check constraint keeps it within <see cref="Grantable"/> whatever the code does.
/// </summary>
public sealed class ClusterCapacity
{
    public Guid Id { get; private set; }

    public Guid ClusterId { get; private set; }

    public Guid PeriodId { get; private set; }

    public decimal CapacityHours { get; private set; }

    /// <summary>More than 1.0 grants more than the cluster can deliver, betting that not every project uses all of its hours.</summary>
    public decimal OversubscriptionFactor { get; private set; } = 1.0m;

    /// <summary>Held back for the program (supplements, urgent requests); never granted by a normal award.</summary>
    public decimal ReserveHours { get; private set; }

    public decimal CommittedHours { get; private set; }

    public decimal Grantable => CapacityHours * OversubscriptionFactor - ReserveHours;

    public decimal Free => Grantable - CommittedHours;

    private ClusterCapacity()
    {
    }

    public static ClusterCapacity Create(Guid clusterId, Guid periodId, decimal capacityHours, decimal factor, decimal reserveHours, DateTimeOffset now)
    {
        var capacity = new ClusterCapacity { Id = Guid.CreateVersion7(now), ClusterId = clusterId, PeriodId = periodId };
        capacity.Change(capacityHours, factor, reserveHours);
        return capacity;
    }

    public void Change(decimal capacityHours, decimal factor, decimal reserveHours)
    {
        if (capacityHours < 0 || reserveHours < 0)
        {
            throw new DomainException("Capacity and reserve cannot be negative.");
        }
        if (factor is < 1.0m or > 3.0m)
        {
            throw new DomainException("The oversubscription factor must be between 1.0 and 3.0.");
        }
        var grantable = capacityHours * factor - reserveHours;
        if (grantable < 0)
        {
            throw new DomainException("The reserve is larger than the capacity.");
        }
        if (grantable < CommittedHours)
        {
            throw new DomainException(
                $"{CommittedHours.AsHours()} GPU-hours are already granted in this period; capacity × factor − reserve would be only {grantable.AsHours()}.");
        }
        CapacityHours = capacityHours;
        OversubscriptionFactor = factor;
        ReserveHours = reserveHours;
    }

    /// <summary>Whether <paramref name="hours"/> more fit (freeing hours always does).</summary>
    internal bool CanCommit(decimal hours) => hours <= 0 || CommittedHours + hours <= Grantable;

    /// <summary>Commits (positive) or frees (negative) hours; the caller holds the row lock and asked <see cref="CanCommit"/>.</summary>
    internal void Commit(decimal hours)
    {
        if (!CanCommit(hours))
        {
            throw new InvalidOperationException("Commit checked hours that do not fit.");
        }
        CommittedHours += hours;
    }

    /// <summary>Why <paramref name="hours"/> do not fit, for the admin.</summary>
    internal string Shortfall(decimal hours, string clusterName, string periodName) =>
        $"Not enough capacity on {clusterName} in {periodName}: {hours.AsHours()} GPU-hours asked, {Math.Max(0, Free).AsHours()} free " +
        $"(capacity {CapacityHours.AsHours()} × {OversubscriptionFactor:0.##} − reserve {ReserveHours.AsHours()}, {CommittedHours.AsHours()} already granted).";
}

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// How many jobs each cluster login ran on an allocation, and their GPU-hours (table <c>allocation_user_usage</c>): kept
/// by whoever charges jobs (<see cref="UsageCharges"/>: the usage ingest, an admin assigning unmatched usage) in the same
/// statement batch as the ledger, so the allocation page lists its users without reading every job it was charged for
/// (a running total of <c>usage_records</c> grouped by allocation, cluster and user; the invariant tests compare the two).
/// The user names are cluster logins as the cluster sent them, never a portal account's name.
/// </summary>
public sealed class AllocationUserUsage
{
    public Guid AllocationId { get; private set; }

    public Guid ClusterId { get; private set; }

    /// <summary>The Slurm user the cluster reported.</summary>
    public string UserName { get; private set; } = "";

    public long Jobs { get; private set; }

    /// <summary>The jobs' GPU-hours as they ran (elapsed × GPUs), before charge rates.</summary>
    public decimal GpuHours { get; private set; }

    private AllocationUserUsage()
    {
    }
}

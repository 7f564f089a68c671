namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// A stored row of an allocation's quota ledger (table <c>ledger_entries</c>). Append-only: PostgreSQL refuses
/// UPDATE, DELETE and TRUNCATE (<see cref="Data.AppendOnlyTables"/>). Signs follow <see cref="LedgerEntry"/>.
/// </summary>
public sealed class AllocationLedgerEntry
{
    public long Id { get; private set; }

    public Guid AllocationId { get; private set; }

    public Guid ClusterId { get; private set; }

    public LedgerEntryKind Kind { get; private set; }

    public decimal Hours { get; private set; }

    /// <summary>When the entry takes effect: a job's end time for usage.</summary>
    public DateTimeOffset EffectiveAt { get; private set; }

    public DateTimeOffset RecordedAt { get; private set; }

    public string Cause { get; private set; } = "";

    /// <summary>The admin or PI behind the entry; null for clusters and jobs.</summary>
    public Guid? ActorUserId { get; private set; }

    /// <summary>The job charged, for a usage entry of a single job; with <see cref="ClusterId"/> and <see cref="UsageJobSubmittedAt"/> it names the usage record.</summary>
    public string? UsageJobId { get; private set; }

    /// <summary>The submit time of the job <see cref="UsageJobId"/> names; null when its cluster did not send one (and for entries recorded before submit times were kept).</summary>
    public DateTimeOffset? UsageJobSubmittedAt { get; private set; }

    public Guid? SupplementRequestId { get; private set; }

    /// <summary>For usage: the charge policy version that priced the jobs of the entry; null for the default rate 1 (and entries recorded before rates).</summary>
    public Guid? ChargePolicyId { get; private set; }

    /// <summary>For an advance and its deduction: the advance.</summary>
    public Guid? AdvanceId { get; private set; }

    private AllocationLedgerEntry()
    {
    }

    internal AllocationLedgerEntry(Guid allocationId, Guid clusterId, LedgerEntryKind kind, decimal hours, DateTimeOffset effectiveAt, DateTimeOffset recordedAt, string cause, Guid? actor, string? usageJobId = null, Guid? supplementRequestId = null, Guid? advanceId = null)
    {
        // Same rule as QuotaLedger (and the table's check constraint): the sign follows the kind.
        QuotaLedger.Balances([new LedgerEntry(effectiveAt, clusterId.ToString(), kind, hours)]);
        AllocationId = allocationId;
        ClusterId = clusterId;
        Kind = kind;
        Hours = hours;
        EffectiveAt = effectiveAt;
        RecordedAt = recordedAt;
        Cause = cause.Length > 500 ? cause[..500] : cause;
        ActorUserId = actor;
        UsageJobId = usageJobId;
        SupplementRequestId = supplementRequestId;
        AdvanceId = advanceId;
    }

    public LedgerEntry ToLedgerEntry() => new(EffectiveAt, ClusterId.ToString(), Kind, Hours, Cause);
}

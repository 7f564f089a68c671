namespace Meta.ComputeAccess.Allocations;

/// <summary>The allocation module's settings (<c>Allocations:*</c>).</summary>
public sealed class AllocationOptions
{
    public const string Section = "Allocations";

    /// <summary>
    /// The most an admin may advance against an undecided renewal, as a share of the hours it requests on the cluster
    /// (<c>Allocations:AdvanceCap</c>, default 0.25).
    /// </summary>
    public decimal AdvanceCap { get; set; } = 0.25m;

    /// <summary>
    /// How an accepted award is released (<c>Allocations:AwardTranches</c>): percentages adding up to 100, the first at the
    /// start, each later one when released (an accepted progress report, or an admin). Default <c>[100]</c>: all at once.
    /// </summary>
    public IList<int> AwardTranches { get; } = [];

    /// <summary>The tranches awards use: <see cref="AwardTranches"/>, or all at once when none are set.</summary>
    public IReadOnlyList<int> AwardTranchesOrAll => AwardTranches.Count == 0 ? [100] : [.. AwardTranches];
}

namespace Meta.ComputeAccess.Clusters;

/// <summary>
/// The program's unit of hours (<c>ChargeUnit:*</c>): what proposals request, reviewers recommend, allocations hold and
/// capacity counts. Each cluster's charge policy says how many of them an hour of its TRES costs, so the same number
/// means the same compute everywhere. By default an accelerator-hour, an H100-hour's worth.
/// </summary>
public sealed class ChargeUnitOptions
{
    public const string Section = "ChargeUnit";

    /// <summary>The unit's name, singular (<c>ChargeUnit:Name</c>, default "accelerator-hour").</summary>
    public string Name { get; set; } = "accelerator-hour";

    /// <summary>The plural (<c>ChargeUnit:Plural</c>, default "accelerator-hours").</summary>
    public string Plural { get; set; } = "accelerator-hours";

    /// <summary>What one unit is worth, for the pages (<c>ChargeUnit:Meaning</c>).</summary>
    public string Meaning { get; set; } = "one H100 GPU for one hour";
}

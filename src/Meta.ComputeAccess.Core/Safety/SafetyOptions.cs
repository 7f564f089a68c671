namespace Meta.ComputeAccess.Safety;

/// <summary>Settings of the safety and ethics track (configuration section <c>Safety</c>).</summary>
public sealed class SafetyOptions
{
    public const string Section = "Safety";

    public const string Invalid = "Safety settings out of range: ComputeThresholdHours 0 (off) to 100,000,000.";

    /// <summary>
    /// A proposal asking for more GPU-hours than this in total enters the safety track whatever it declares; 0 turns
    /// the compute rule off (declarations of personal data, human subjects or dual-use risk still do).
    /// </summary>
    public decimal ComputeThresholdHours { get; set; } = 100_000m;

    public bool IsValid() => ComputeThresholdHours is >= 0m and <= 100_000_000m;
}

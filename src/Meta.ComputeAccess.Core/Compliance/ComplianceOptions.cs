namespace Meta.ComputeAccess.Compliance;

/// <summary>Settings of restricted-party screening (configuration section <c>Compliance</c>).</summary>
public sealed class ComplianceOptions
{
    public const string Section = "Compliance";

    public const string Invalid =
        "Compliance settings out of range: MatchThreshold 50–100, CandidateSimilarity 0.05–0.9, MaxImportBytes 1 KB–1 GB, MaxImportEntries 1–5,000,000.";

    /// <summary>A name scoring this much or more against a list entry (0–100, <see cref="NameMatcher"/>) is a hit.</summary>
    public int MatchThreshold { get; set; } = 88;

    /// <summary>
    /// How alike (pg_trgm trigram similarity, 0–1) a list name must be to be scored at all. Lower finds more candidates
    /// and costs more; it must stay well below what <see cref="MatchThreshold"/> means (docs/compliance.md).
    /// </summary>
    public double CandidateSimilarity { get; set; } = 0.3;

    /// <summary>The largest list file an import takes, in bytes.</summary>
    public long MaxImportBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The most entries one import takes.</summary>
    public int MaxImportEntries { get; set; } = 250_000;

    public bool IsValid() =>
        MatchThreshold is >= 50 and <= 100
        && CandidateSimilarity is >= 0.05 and <= 0.9
        && MaxImportBytes is >= 1_024 and <= 1_073_741_824
        && MaxImportEntries is >= 1 and <= 5_000_000;
}

namespace Meta.ComputeAccess.Usage;

/// <summary>The usage ingest's settings (<c>Usage:*</c>): how much a cluster's clock and sacct's arithmetic may be off.</summary>
public sealed class UsageOptions
{
    public const string Section = "Usage";

    public static readonly TimeSpan DefaultMaxClockSkew = TimeSpan.FromMinutes(5);

    public static readonly TimeSpan DefaultElapsedSlack = TimeSpan.FromSeconds(60);

    /// <summary>A finished job ending later than this after the portal's clock is rejected (<c>Usage:MaxClockSkew</c>, default 00:05:00).</summary>
    public TimeSpan MaxClockSkew { get; set; } = DefaultMaxClockSkew;

    /// <summary>ElapsedRaw may exceed End − Start by this much (<c>Usage:ElapsedSlack</c>, default 00:01:00).</summary>
    public TimeSpan ElapsedSlack { get; set; } = DefaultElapsedSlack;

    /// <summary>
    /// How many finished jobs of a body are looked up before the rest is streamed into the database as it arrives
    /// (<c>Usage:StreamProbeJobs</c>, default 4096): a batch sent again starts with known jobs and is looked up whole instead.
    /// 0 turns streaming off.
    /// </summary>
    public int StreamProbeJobs { get; set; } = 4096;
}

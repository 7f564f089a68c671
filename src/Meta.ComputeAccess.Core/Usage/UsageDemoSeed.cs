using System.Globalization;
using System.Text;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Demo;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Usage;

/// <summary>
/// A month of jobs for the running demo allocation (<see cref="AllocationDemoSeed.DemoSlurmAccount"/>), written as the
/// <c>sacct --parsable2</c> text a cluster would send and charged through the real parser and <see cref="UsageIngest"/>,
/// so the burn-down, the ledger, the jobs and the dashboards show what a project in its second month looks like: a
/// slow first week of porting, then training runs at a pace that will use the Grand Teton hours before the end date.
/// One job of a mistyped account stays unmatched for the admins.
/// </summary>
/// <remarks>Deterministic for a given day: the same seed gives the same jobs.</remarks>
public sealed class UsageDemoSeed(PortalDbContext db, UsageIngest ingest, TimeProvider clock) : IDemoSeedStep
{
    public const string Header = "JobID|Account|User|Start|End|ElapsedRaw|AllocTRES|State|Submit|Partition";

    public int Order => 60;

    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        var allocation = await db.Allocations.AsNoTracking().SingleAsync(a => a.SlurmAccount == AllocationDemoSeed.DemoSlurmAccount, cancellationToken);
        var clusters = await db.Clusters.AsNoTracking().ToDictionaryAsync(c => c.Slug, c => (c.Id, c.TimeZoneId), cancellationToken);
        var now = clock.GetUtcNow();
        // The demo's usage reaches back a month: those months get their partitions first (usage_records' and
        // unmatched_usage's), as the usage-partitions job makes them ahead of the jobs in a running portal (else the jobs
        // would wait in the default partitions).
        var first = DateOnly.FromDateTime(allocation.StartsAt.UtcDateTime);
        for (var month = new DateOnly(first.Year, first.Month, 1); month <= DateOnly.FromDateTime(now.UtcDateTime); month = month.AddMonths(1))
        {
            await UsagePartitionsJob.EnsureMonthAsync(db, month, cancellationToken);
        }
        foreach (var (slug, text) in Batches(allocation.StartsAt, now))
        {
            var (clusterId, zoneId) = clusters[slug];
            var zone = TimeZoneInfo.TryFindSystemTimeZoneById(zoneId, out var found) ? found : TimeZoneInfo.Utc;
            var parsed = SacctParser.Parse(new StringReader(text), UsageBodyFormat.SacctParsable2, UsageParseOptions.Default with { ClusterTimeZone = zone });
            var result = await ingest.IngestAsync(clusterId, parsed, cancellationToken);
            if (result.Rejected > 0)
            {
                throw new InvalidOperationException($"Demo usage for {slug} was rejected: {string.Join("; ", result.Rejections.Select(r => $"line {r.LineNumber}: {r.Reason}"))}");
            }
        }
    }

    /// <summary>The sacct text per cluster slug, jobs from <paramref name="start"/> until the day before <paramref name="now"/>, in UTC (the demo clusters' zone).</summary>
    public static IReadOnlyList<(string ClusterSlug, string Sacct)> Batches(DateTimeOffset start, DateTimeOffset now)
    {
        var teton = new StringBuilder(Header).Append('\n');
        var mtia = new StringBuilder(Header).Append('\n');
        var jobId = 4_100_000;
        var random = new Random(2027);
        var firstDay = start.UtcDateTime.Date;
        var lastDay = now.UtcDateTime.Date.AddDays(-1);
        for (var day = firstDay; day <= lastDay; day = day.AddDays(1))
        {
            var week = (day - firstDay).Days / 7;
            // Week 1: porting and small tests; week 2: first training runs; then pre-training at full tilt.
            var (jobs, gpus, hours) = week switch
            {
                0 => (3, new[] { 8, 8, 16 }, (1.5, 4.0)),
                1 => (4, new[] { 16, 32, 32 }, (2.0, 6.0)),
                _ => (5, new[] { 32, 64, 64 }, (1.0, 2.5)),
            };
            for (var j = 0; j < jobs; j++)
            {
                var gpuCount = gpus[random.Next(gpus.Length)];
                var elapsed = (int)(3600 * (hours.Item1 + random.NextDouble() * (hours.Item2 - hours.Item1)));
                var begin = day.AddHours(1 + j * 4.5 + random.Next(0, 60) / 60.0);
                var state = random.Next(20) == 0 ? "FAILED" : random.Next(25) == 0 ? "CANCELLED by 1001" : "COMPLETED";
                if (begin.AddSeconds(elapsed) > now.UtcDateTime)
                {
                    continue;
                }
                Line(teton, jobId++, AllocationDemoSeed.DemoSlurmAccount, "aokafor", begin, elapsed, gpuCount, "h100", state, steps: true);
            }
            // Evaluation on MIG slices of Grand Teton's "mig" partition: a 1g.10gb slice is charged a seventh of an H100-hour.
            if (day.DayOfWeek is DayOfWeek.Tuesday or DayOfWeek.Thursday)
            {
                Line(teton, jobId++, AllocationDemoSeed.DemoSlurmAccount, "mchen", day.AddHours(10), 3600 * (3 + random.Next(5)), 2, "1g.10gb", "COMPLETED", steps: false, partition: "mig");
            }
            // Inference benchmarks on MTIA every other working day (an MTIA-hour is charged half an H100-hour).
            if (day.DayOfWeek is DayOfWeek.Monday or DayOfWeek.Wednesday or DayOfWeek.Friday)
            {
                Line(mtia, jobId++, AllocationDemoSeed.DemoSlurmAccount, "lschmidt", day.AddHours(9), 3600 * (2 + random.Next(4)), 8 * (1 + random.Next(2)), "mtia", "COMPLETED", steps: false);
            }
        }
        // A typo in a job script's --account: nobody is charged, the admins see it under unmatched usage.
        Line(teton, jobId, "lowres-speach", "aokafor", lastDay.AddHours(6), 5400, 8, "h100", "COMPLETED", steps: false);
        return [("grand-teton", teton.ToString()), ("mtia", mtia.ToString())];
    }

    private static void Line(StringBuilder sacct, int jobId, string account, string user, DateTime start, int elapsedSeconds, int gpus, string type, string state, bool steps, string partition = "batch")
    {
        var end = start.AddSeconds(elapsedSeconds);
        var submit = start.AddMinutes(-(jobId % 17) - 1); // queued a few minutes, as the agent reports it
        var tres = $"billing={gpus * 8},cpu={gpus * 8},gres/gpu:{type}={gpus},gres/gpu={gpus},mem={gpus * 64}G,node={Math.Max(1, gpus / 8)}";
        sacct.Append(CultureInfo.InvariantCulture, $"{jobId}|{account}|{user}|{start:yyyy-MM-ddTHH:mm:ss}|{end:yyyy-MM-ddTHH:mm:ss}|{elapsedSeconds}|{tres}|{state}|{submit:yyyy-MM-ddTHH:mm:ss}|{partition}\n");
        if (steps)
        {
            // Slurm reports each job's batch step too; the portal charges the job once.
            sacct.Append(CultureInfo.InvariantCulture, $"{jobId}.batch|{account}|{user}|{start:yyyy-MM-ddTHH:mm:ss}|{end:yyyy-MM-ddTHH:mm:ss}|{elapsedSeconds}|cpu=8,gres/gpu={gpus},mem=64G,node=1|{(state == "COMPLETED" ? "COMPLETED" : "FAILED")}|{start:yyyy-MM-ddTHH:mm:ss}|\n");
        }
    }
}

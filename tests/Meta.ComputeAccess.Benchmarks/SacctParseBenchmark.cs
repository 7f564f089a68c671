using System.Diagnostics;
using System.Globalization;
using System.Text;
using Meta.ComputeAccess.Usage;

namespace Meta.ComputeAccess.Benchmarks;

/// <summary>
/// The usage parser alone on a generated sacct body of 1,000,000 jobs plus their steps, read from UTF-8 bytes
/// as the API receives them. Options: <c>--jobs N</c>, <c>--json</c> (JSON lines instead of sacct).
/// </summary>
public sealed class SacctParseBenchmark : IBenchmark
{
    public string Name => "sacct-parse";

    public string Description => "usage body parser, 1,000,000 jobs + steps from UTF-8 bytes, median of 5 runs [--jobs N] [--json]";

    public async Task<int> RunAsync(string[] args)
    {
        var jobs = 1_000_000;
        var jobsAt = Array.IndexOf(args, "--jobs");
        if (jobsAt >= 0 && jobsAt + 1 < args.Length)
        {
            jobs = int.Parse(args[jobsAt + 1], CultureInfo.InvariantCulture);
        }
        var format = args.Contains("--json") ? UsageBodyFormat.JsonLines : UsageBodyFormat.SacctParsable2;
        const int repetitions = 5;

        var (body, lines) = Generate(jobs, format, new Random(4711));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sacct-parse ({format}): {jobs:N0} jobs, {lines:N0} lines, {body.Length / 1_048_576.0:F0} MiB"));

        UsageParseResult result = SacctParser.Parse(new MemoryStream(body, writable: false), format); // warm-up
        var times = new List<double>();
        for (var i = 0; i < repetitions; i++)
        {
            GC.Collect();
            var watch = Stopwatch.StartNew();
            result = await SacctParser.ParseAsync(new MemoryStream(body, writable: false), format);
            watch.Stop();
            times.Add(watch.Elapsed.TotalSeconds);
        }
        times.Sort();
        var median = times[times.Count / 2];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  chargeable {result.Chargeable.Count:N0}, pending {result.Pending.Count:N0}, steps {result.SkippedSteps:N0}, rejected {result.RejectedCount:N0}, duplicates {result.Duplicates.Count:N0}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  median {median * 1000:F0} ms (min {times[0] * 1000:F0}, max {times[^1] * 1000:F0}): {lines / median:N0} lines/s, {jobs / median:N0} job records/s"));
        return 0;
    }

    private static readonly string[] Accounts = Enumerable.Range(0, 300).Select(i => $"proj-{i:D3}").ToArray();
    private static readonly string[] Users = Enumerable.Range(0, 2000).Select(i => $"user{i:D4}").ToArray();

    private static (byte[] Body, int Lines) Generate(int jobs, UsageBodyFormat format, Random random)
    {
        var text = new StringBuilder(capacity: jobs * 300);
        var lines = 0;
        if (format == UsageBodyFormat.SacctParsable2)
        {
            text.Append("JobID|JobName|Partition|Account|AllocCPUS|State|ExitCode|User|Submit|Start|End|ElapsedRaw|AllocTRES\n");
            lines++;
        }
        var clock = new DateTime(2026, 3, 1, 0, 0, 0, DateTimeKind.Unspecified);
        var jobNumber = 1_000_000;
        for (var j = 0; j < jobs; j++)
        {
            var kind = random.Next(100);
            var id = kind < 20 ? $"{jobNumber}_{random.Next(1, 500)}" : kind < 22 ? $"{jobNumber}+{random.Next(0, 3)}" : jobNumber.ToString(CultureInfo.InvariantCulture);
            jobNumber++;
            var gpus = random.Next(10) == 0 ? 0 : 1 << random.Next(0, 4);
            var cpus = Math.Max(1, gpus) * 8;
            var tres = gpus == 0
                ? $"billing={cpus},cpu={cpus},mem={cpus * 4}G,node=1"
                : random.Next(3) == 0
                    ? $"billing={cpus},cpu={cpus},gres/gpu={gpus},mem={cpus * 8}G,node=1"
                    : $"billing={cpus},cpu={cpus},gres/gpu:h100={gpus},gres/gpu={gpus},mem={cpus * 8}G,node=1";
            var state = random.Next(100) switch
            {
                < 82 => "COMPLETED",
                < 88 => "FAILED",
                < 92 => $"CANCELLED by {random.Next(1000, 9000)}",
                < 95 => "TIMEOUT",
                < 96 => "OUT_OF_MEMORY",
                _ => "RUNNING",
            };
            var elapsed = random.Next(60, 86_400);
            clock = clock.AddSeconds(random.Next(0, 3));
            var start = clock.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
            // Queued up to an hour (from the job number, so the random sequence is the one before Submit was added).
            var submit = clock.AddSeconds(-(jobNumber * 7919L % 3600)).ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
            var end = state == "RUNNING" ? "Unknown" : clock.AddSeconds(elapsed).ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
            var account = Accounts[random.Next(Accounts.Length)];
            var user = Users[random.Next(Users.Length)];
            Line(text, format, id, "train", "h100", account, cpus, state, user, submit, start, end, elapsed, tres);
            lines++;
            // sacct prints a .batch step for every batch job; some also have .extern and srun steps. A step's Submit is its start.
            Line(text, format, id + ".batch", "batch", "", account, cpus, state, "", start, start, end, elapsed, tres);
            lines++;
            if (random.Next(4) == 0)
            {
                Line(text, format, id + ".extern", "extern", "", account, cpus, state, "", start, start, end, elapsed, tres);
                Line(text, format, id + ".0", "python", "", account, cpus, state, "", start, start, end, elapsed - 1, tres);
                lines += 2;
            }
        }
        return (Encoding.UTF8.GetBytes(text.ToString()), lines);
    }

    private static void Line(StringBuilder text, UsageBodyFormat format, string id, string name, string partition, string account, int cpus,
        string state, string user, string submit, string start, string end, int elapsed, string tres)
    {
        var invariant = CultureInfo.InvariantCulture;
        if (format == UsageBodyFormat.SacctParsable2)
        {
            text.Append(invariant, $"{id}|{name}|{partition}|{account}|{cpus}|{state}|0:0|{user}|{submit}|{start}|{end}|{elapsed}|{tres}\n");
        }
        else
        {
            text.Append(invariant,
                $"{{\"JobID\":\"{id}\",\"JobName\":\"{name}\",\"Account\":\"{account}\",\"User\":\"{user}\",\"Submit\":\"{submit}\",\"Start\":\"{start}\",\"End\":\"{end}\",\"ElapsedRaw\":{elapsed},\"AllocTRES\":\"{tres}\",\"State\":\"{state}\"}}\n");
        }
    }
}

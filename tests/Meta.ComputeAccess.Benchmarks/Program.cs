namespace Meta.ComputeAccess.Benchmarks;

/// <summary>Entry point: <c>dotnet run -c Release --project tests/Meta.ComputeAccess.Benchmarks -- &lt;name&gt;</c>.</summary>
public static class Program
{
    private static readonly Dictionary<string, Func<string[], Task<int>>> Benchmarks = new(StringComparer.OrdinalIgnoreCase);

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || !Benchmarks.TryGetValue(args[0], out var run))
        {
            Console.WriteLine("Usage: Meta.ComputeAccess.Benchmarks <benchmark> [options]");
            Console.WriteLine("Benchmarks: " + string.Join(", ", Benchmarks.Keys.Order()));
            return args.Length == 0 ? 0 : 2;
        }
        return await run(args[1..]);
    }
}

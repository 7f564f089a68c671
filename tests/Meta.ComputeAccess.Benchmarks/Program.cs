using System.Reflection;

namespace Meta.ComputeAccess.Benchmarks;

/// <summary>A benchmark that can be run by name from the command line.</summary>
public interface IBenchmark
{
    /// <summary>The name given on the command line, for example <c>assignment</c>.</summary>
    string Name { get; }

    string Description { get; }

    Task<int> RunAsync(string[] args);
}

/// <summary>Entry point: <c>dotnet run -c Release --project tests/Meta.ComputeAccess.Benchmarks -- &lt;name&gt; [options]</c>.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var benchmarks = typeof(Program).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(IBenchmark).IsAssignableFrom(t))
            .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
            .OrderBy(b => b.Name, StringComparer.Ordinal)
            .ToList();
        var chosen = args.Length == 0 ? null : benchmarks.FirstOrDefault(b => string.Equals(b.Name, args[0], StringComparison.OrdinalIgnoreCase));
        if (chosen is null)
        {
            Console.WriteLine("Usage: Meta.ComputeAccess.Benchmarks <benchmark> [options]");
            foreach (var b in benchmarks)
            {
                Console.WriteLine($"  {b.Name,-16} {b.Description}");
            }
            return args.Length == 0 ? 0 : 2;
        }
        return await chosen.RunAsync(args[1..]);
    }
}

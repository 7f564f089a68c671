using Meta.ComputeAccess.Clusters;

namespace Meta.ComputeAccess.Web.Operations;

/// <summary><c>cluster token create &lt;slug&gt; [--name N]</c>: creates a cluster API token and prints it once.</summary>
public static class ClusterCommands
{
    public static void Register() => PortalCommands.Register("cluster", RunAsync);

    private static async Task<int> RunAsync(IServiceProvider root, string[] args)
    {
        if (args.Length < 3 || args[0] != "token" || args[1] != "create" || args[2].StartsWith("--", StringComparison.Ordinal))
        {
            throw new DomainException("usage: cluster token create <cluster slug> [--name <name>]");
        }
        var slug = args[2];
        var name = PortalCommands.Option(args, "--name") ?? $"created from the command line";
        await using var scope = root.CreateAsyncScope();
        var (token, secret) = await scope.ServiceProvider.GetRequiredService<ClusterTokens>().CreateAsync(slug, name, null);
        Console.WriteLine($"Created token \"{token.Name}\" for cluster {slug}. It is shown only now; store it on the cluster (e.g. /etc/mca/token, mode 0600):");
        Console.WriteLine(secret);
        return 0;
    }
}

namespace Meta.ComputeAccess.OidcProvider;

/// <summary>Run by deploy/local/start.sh for the demo; the tests start <see cref="ProviderHost"/> in their own process.</summary>
internal static class Program
{
    public static void Main(string[] args) => ProviderHost.Build(args).Run();
}

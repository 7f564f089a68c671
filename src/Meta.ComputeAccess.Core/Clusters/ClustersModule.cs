using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Clusters;

public static class ClustersModule
{
    public static IServiceCollection AddClustersModule(this IServiceCollection services) =>
        services
            .AddScoped<ClusterTokens>()
            .AddScoped<ClusterAdministration>()
            .AddScoped<ClusterLogins>();
}

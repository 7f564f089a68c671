using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Clusters;

public static class ClustersModule
{
    /// <summary>Clusters, their tokens and charge policies; the program's unit from <c>ChargeUnit:*</c>.</summary>
    public static IServiceCollection AddClustersModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ChargeUnitOptions>().Bind(configuration.GetSection(ChargeUnitOptions.Section))
            .Validate(o => !string.IsNullOrWhiteSpace(o.Name) && !string.IsNullOrWhiteSpace(o.Plural), "ChargeUnit:Name and ChargeUnit:Plural must not be empty.")
            .ValidateOnStart();
        return services
            .AddScoped<ClusterTokens>()
            .AddScoped<ClusterAdministration>()
            .AddScoped<ClusterLogins>()
            .AddScoped<ChargePolicies>();
    }
}

using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Usage;

public static class UsageModule
{
    public static IServiceCollection AddUsageModule(this IServiceCollection services) =>
        services
            .AddScoped<UsageIngest>()
            .AddScoped<UnmatchedUsageResolution>();
}

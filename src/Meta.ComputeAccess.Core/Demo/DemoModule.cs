using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Demo;

public static class DemoModule
{
    /// <summary>The demo seeder; each module adds its own <see cref="IDemoSeedStep"/>.</summary>
    public static IServiceCollection AddDemoModule(this IServiceCollection services)
    {
        services.AddScoped<DemoSeeder>();
        services.AddScoped<IDemoSeedStep, CallsDemoSeed>();
        return services;
    }
}

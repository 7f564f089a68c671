using Meta.ComputeAccess.Demo;
using Meta.ComputeAccess.Review;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Allocations;

public static class AllocationsModule
{
    public static IServiceCollection AddAllocationsModule(this IServiceCollection services)
    {
        services.AddScoped<CapacityGuard>();
        services.AddScoped<CapacityPlanning>();
        services.AddScoped<AwardPlanning>();
        services.AddScoped<AllocationService>();
        services.AddScoped<AllocationNotices>();
        services.AddScoped<AllocationLifecycleJob>();
        services.AddScoped<AllocationMembers>();
        services.AddScoped<ClusterSyncReports>();
        services.AddScoped<ClusterSyncWatchJob>();
        services.AddScoped<IDemoSeedStep, AllocationDemoSeed>();
        // An accepted award becomes an allocation, in the acceptance's unit of work.
        services.AddScoped<IAwardAcceptanceHandler, AllocationAwardHandler>();
        return services;
    }
}

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
        services.AddScoped<ProgressReports>();
        services.AddScoped<ProgressReportJob>();
        services.AddOptions<ProgressReportOptions>().BindConfiguration(ProgressReportOptions.Section)
            .Validate(o => o.IsValid, "ProgressReports: ProgressAt is from 0 to below 1; ProgressDueDays and FinalDueDays 1 to 365; ReminderDays 0 to 365.")
            .ValidateOnStart();
        services.AddScoped<AllocationMembers>();
        services.AddScoped<ClusterSyncReports>();
        services.AddScoped<ClusterSyncWatchJob>();
        services.AddScoped<IDemoSeedStep, AllocationDemoSeed>();
        services.AddScoped<IDemoSeedStep, AwardsDemoSeed>();
        // An accepted award becomes an allocation, in the acceptance's unit of work.
        services.AddScoped<IAwardAcceptanceHandler, AllocationAwardHandler>();
        return services;
    }
}

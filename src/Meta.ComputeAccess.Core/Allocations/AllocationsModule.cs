using Meta.ComputeAccess.Demo;
using Meta.ComputeAccess.Review;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Allocations;

public static class AllocationsModule
{
    /// <summary>The allocation module; advance cap and award tranches from <c>Allocations:*</c>.</summary>
    public static IServiceCollection AddAllocationsModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AllocationOptions>().Bind(configuration.GetSection(AllocationOptions.Section))
            .Validate(o => o.AdvanceCap is >= 0m and <= 1m, "Allocations:AdvanceCap is a share from 0 to 1.")
            .Validate(o => o.AwardTranches.Count == 0 || (o.AwardTranches.Count <= 10 && o.AwardTranches.All(p => p is >= 1 and <= 100) && o.AwardTranches.Sum() == 100),
                "Allocations:AwardTranches are 1 to 10 whole percentages adding up to 100.")
            .ValidateOnStart();
        services.AddScoped<CapacityGuard>();
        services.AddScoped<CapacityPlanning>();
        services.AddScoped<AwardPlanning>();
        services.AddScoped<AllocationService>();
        services.AddScoped<AllocationNotices>();
        services.AddScoped<AllocationLifecycleJob>();
        services.AddScoped<ProgressReports>();
        // An accepted progress report releases the next tranche of the award.
        services.AddScoped<IProgressReportAcceptedHandler, TrancheReleaseOnAcceptedReport>();
        services.AddScoped<ProgressReportJob>();
        services.AddOptions<ProgressReportOptions>().BindConfiguration(ProgressReportOptions.Section)
            .Validate(o => o.IsValid, "ProgressReports: ProgressAt is from 0 to below 1; ProgressDueDays and FinalDueDays 1 to 365; ReminderDays 0 to 365.")
            .ValidateOnStart();
        services.AddScoped<AllocationMembers>();
        services.AddScoped<ClusterSyncReports>();
        services.AddScoped<ClusterSyncWatchJob>();
        services.AddScoped<PurgeClusterPlanVersionsJob>();
        services.AddScoped<IDemoSeedStep, AllocationDemoSeed>();
        services.AddScoped<IDemoSeedStep, AwardsDemoSeed>();
        // An accepted award becomes an allocation, in the acceptance's unit of work.
        services.AddScoped<IAwardAcceptanceHandler, AllocationAwardHandler>();
        return services;
    }
}

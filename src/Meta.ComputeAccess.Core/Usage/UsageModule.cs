using Meta.ComputeAccess.Demo;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Usage;

public static class UsageModule
{
    /// <summary>The usage ingest, the resolution of unmatched usage, the job that makes the usage tables' partitions ahead and the demo's usage; plausibility settings from <c>Usage:*</c>.</summary>
    public static IServiceCollection AddUsageModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddScoped<UsageIngest>();
        services.AddScoped<UnmatchedUsageResolution>();
        services.AddScoped<UsagePartitionsJob>();
        services.AddScoped<IDemoSeedStep, UsageDemoSeed>();
        services.AddOptions<UsageOptions>().Bind(configuration.GetSection(UsageOptions.Section))
            .Validate(o => o.MaxClockSkew >= TimeSpan.Zero && o.ElapsedSlack >= TimeSpan.Zero && o.StreamProbeJobs >= 0,
                "Usage:MaxClockSkew, Usage:ElapsedSlack and Usage:StreamProbeJobs must not be negative.")
            .ValidateOnStart();
        return services;
    }
}

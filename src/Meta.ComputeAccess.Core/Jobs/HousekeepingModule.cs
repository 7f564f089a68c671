using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Jobs;

public static class HousekeepingModule
{
    /// <summary>Jobs that keep personal data bounded (sign-in history, unconfirmed accounts, sessions, rate-limit windows and wrong-password counts).</summary>
    public static IServiceCollection AddHousekeepingModule(this IServiceCollection services)
    {
        services.AddScoped<PurgeSignInEventsJob>();
        services.AddScoped<PurgeUnconfirmedAccountsJob>();
        services.AddScoped<PurgeUserSessionsJob>();
        services.AddScoped<PurgeRateLimitWindowsJob>();
        return services;
    }
}

using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Identity;

public static class IdentityModule
{
    public static IServiceCollection AddIdentityModule(this IServiceCollection services) =>
        services.AddScoped<UserAdministration>()
            .AddScoped<FederatedAccounts>()
            .AddScoped<UserSessions>()
            .AddScoped<RateLimitWindows>()
            .AddScoped<SignInThrottles>();
}

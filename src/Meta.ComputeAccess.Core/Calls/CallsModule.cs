using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Calls;

public static class CallsModule
{
    public static IServiceCollection AddCallsModule(this IServiceCollection services) =>
        services.AddScoped<CallAdministration>();
}

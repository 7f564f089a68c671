using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Audit;

public static class AuditModule
{
    public static IServiceCollection AddAuditModule(this IServiceCollection services) =>
        services.AddScoped<AuditLog>();
}

using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Reports;

public static class ReportsModule
{
    public static IServiceCollection AddReportsModule(this IServiceCollection services) =>
        services.AddScoped<ProgramReports>().AddScoped<PublicAwards>();
}

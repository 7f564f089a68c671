using Meta.ComputeAccess.Demo;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Compliance;

public static class ComplianceModule
{
    public static IServiceCollection AddComplianceModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ComplianceOptions>().Bind(configuration.GetSection(ComplianceOptions.Section)).Validate(o => o.IsValid(), ComplianceOptions.Invalid).ValidateOnStart();
        services.AddScoped<ScreeningMatches>();
        services.AddScoped<PartyScreening>();
        services.AddScoped<ScreeningLists>();
        services.AddScoped<ComplianceQueue>();
        services.AddScoped<CountryPolicies>();
        services.AddScoped<ComplianceRescreenJob>();
        services.AddScoped<IDemoSeedStep, ComplianceDemoSeed>();
        // Proposals and Review reach compliance only through these (declared there, implemented here).
        services.AddScoped<ISubmissionScreening>(sp => sp.GetRequiredService<PartyScreening>());
        services.AddScoped<IAwardGate, ComplianceAwardGate>();
        return services;
    }
}

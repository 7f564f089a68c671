using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Safety;

public static class SafetyModule
{
    public static IServiceCollection AddSafetyModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SafetyOptions>().Bind(configuration.GetSection(SafetyOptions.Section)).Validate(o => o.IsValid(), SafetyOptions.Invalid).ValidateOnStart();
        services.AddScoped<SafetyTrack>();
        // Proposals and Review reach the safety track only through these (declared there, implemented here).
        services.AddScoped<ISubmissionScreening, SafetySubmissions>();
        services.AddScoped<IAwardGate, SafetyAwardGate>();
        services.AddScoped<IAwardConditions, SafetyAwardConditions>();
        return services;
    }
}

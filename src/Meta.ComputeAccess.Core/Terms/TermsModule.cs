using Meta.ComputeAccess.Demo;
using Meta.ComputeAccess.Review;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Terms;

public static class TermsModule
{
    public static IServiceCollection AddTermsModule(this IServiceCollection services)
    {
        services.AddScoped<PortalTerms>();
        // Review asks for an award's conditions through this (declared there, implemented here).
        services.AddScoped<IAwardConditions, CallAwardTerms>();
        services.AddScoped<IDemoSeedStep, TermsDemoSeed>();
        return services;
    }
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Privacy;

public static class PrivacyModule
{
    /// <summary>People's data rights (download, closing an account) and retention.</summary>
    public static IServiceCollection AddPrivacyModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PrivacyOptions>().Bind(configuration.GetSection(PrivacyOptions.Section)).Validate(o => o.IsValid(), PrivacyOptions.Invalid).ValidateOnStart();
        services.AddScoped<TextPseudonymisation>();
        services.AddScoped<DraftRemoval>();
        services.AddScoped<PersonalDataExport>();
        services.AddScoped<AccountClosure>();
        services.AddScoped<RetentionJob>();
        return services;
    }
}

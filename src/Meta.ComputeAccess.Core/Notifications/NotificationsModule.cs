using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Notifications;

public static class NotificationsModule
{
    /// <summary>The outbox, notices, preferences and their delivery jobs; mail settings from <c>Smtp:*</c>.</summary>
    public static IServiceCollection AddNotificationsModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddScoped<EmailOutbox>();
        services.AddSingleton<NotificationTemplates>();
        services.AddSingleton<UnsubscribeTokens>();
        services.AddScoped<Notifier>();
        services.AddScoped<OutboxDeliveryJob>();
        services.AddScoped<DailyDigestJob>();
        services.AddScoped<NotificationInbox>();
        services.AddScoped<EmailPreferences>();
        services.AddScoped<OutboxAdministration>();
        services.AddOptions<SmtpOptions>().Bind(configuration.GetSection(SmtpOptions.Section));
        return services;
    }
}

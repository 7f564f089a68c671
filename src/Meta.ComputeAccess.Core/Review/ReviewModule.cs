using Meta.ComputeAccess.Demo;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Review;

public static class ReviewModule
{
    public static IServiceCollection AddReviewModule(this IServiceCollection services)
    {
        services.AddScoped<ReviewerPool>();
        services.AddScoped<ScreeningService>();
        services.AddScoped<Bidding>();
        services.AddScoped<ReviewAssignments>();
        services.AddScoped<ReviewWriting>();
        services.AddScoped<ReviewRanking>();
        services.AddScoped<ReviewDecisions>();
        services.AddScoped<ReviewResponses>();
        services.AddScoped<DecisionAppeals>();
        services.AddScoped<ReviewReminderJob>();
        services.AddScoped<IDemoSeedStep, ReviewDemoSeed>();
        return services;
    }
}

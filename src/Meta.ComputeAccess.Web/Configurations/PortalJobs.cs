using Hangfire;
using Hangfire.Common;
using Hangfire.PostgreSql;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Jobs;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Privacy;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Usage;
using Meta.ComputeAccess.Web.Platform;

namespace Meta.ComputeAccess.Web.Configurations;

/// <summary>Hangfire on PostgreSQL (schema <c>hangfire</c>). Jobs are plain services: tests run them directly.</summary>
internal static class PortalJobs
{
    public const string Schema = "hangfire";

    public static void AddPortalJobs(this WebApplicationBuilder builder, string connectionString)
    {
        // Registered before AddHangfire, which only adds its default provider when none is there: the server then
        // applies the global filters plus JobFailureNotifier, without touching Hangfire's static filter list.
        builder.Services.AddSingleton<JobFailureNotifier>();
        builder.Services.AddSingleton<IJobFilterProvider, PortalJobFilterProvider>();
        builder.Services.AddHangfire(config => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(
                o => o.UseNpgsqlConnection(connectionString),
                new PostgreSqlStorageOptions
                {
                    SchemaName = Schema,
                    // The schema is created and upgraded by the `migrate` command, once, like the portal's own tables:
                    // an instance that starts never changes the schema under instances still running the old version.
                    PrepareSchemaIfNecessary = false,
                    // A running job keeps its queue entry invisible by a heartbeat; when its process dies (kill -9,
                    // OOM, host crash) the job is handed to another worker after this timeout instead of the
                    // default fixed 30 minutes. Jobs are safe to run twice, so a resumed job may start over.
                    UseSlidingInvisibilityTimeout = true,
                    InvisibilityTimeout = TimeSpan.FromSeconds(builder.Configuration.GetValue("Jobs:InvisibilityTimeoutSeconds", 300)),
                }));

        // Tests and command-line runs set Jobs:RunServer=false; every web instance runs a server otherwise.
        if (builder.Configuration.GetValue("Jobs:RunServer", true))
        {
            builder.Services.AddHangfireServer(o => o.WorkerCount = Math.Max(2, Environment.ProcessorCount));
            builder.Services.AddHostedService<RecurringJobsRegistration>();
        }
    }

    /// <summary>Registers the recurring jobs once the host has started (idempotent: AddOrUpdate by id).</summary>
    private sealed class RecurringJobsRegistration(IRecurringJobManager jobs) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            jobs.AddOrUpdate<OutboxDeliveryJob>("outbox-delivery", j => j.RunAsync(200, CancellationToken.None), Cron.Minutely());
            // Hourly: each user's digest goes out once their own morning has come (DailyDigestJob.DigestHour, their time zone).
            jobs.AddOrUpdate<DailyDigestJob>("daily-digest", j => j.RunAsync(CancellationToken.None), Cron.Hourly(5));
            jobs.AddOrUpdate<AllocationLifecycleJob>("allocation-lifecycle", j => j.RunAsync(CancellationToken.None), Cron.Daily(1));
            jobs.AddOrUpdate<ProgressReportJob>("progress-reports", j => j.RunAsync(CancellationToken.None), Cron.Daily(2));
            jobs.AddOrUpdate<ClusterSyncWatchJob>("cluster-sync-watch", j => j.RunAsync(CancellationToken.None), Cron.Hourly(20));
            jobs.AddOrUpdate<ReviewReminderJob>("review-reminders", j => j.RunAsync(CancellationToken.None), Cron.Hourly());
            jobs.AddOrUpdate<PurgeUnconfirmedAccountsJob>("purge-unconfirmed-accounts", j => j.RunAsync(CancellationToken.None), Cron.Daily(3));
            jobs.AddOrUpdate<PurgeSignInEventsJob>("purge-sign-in-events", j => j.RunAsync(CancellationToken.None), Cron.Daily(4));
            jobs.AddOrUpdate<PurgeRateLimitWindowsJob>("purge-rate-limit-windows", j => j.RunAsync(CancellationToken.None), Cron.Hourly(10));
            jobs.AddOrUpdate<RetentionJob>("retention", j => j.RunAsync(CancellationToken.None), Cron.Daily(2, 30));
            jobs.AddOrUpdate<PurgeUserSessionsJob>("purge-user-sessions", j => j.RunAsync(CancellationToken.None), Cron.Hourly(20));
            // usage_records' and unmatched_usage's monthly partitions, the current month and three ahead (docs/operations.md).
            jobs.AddOrUpdate<UsagePartitionsJob>("usage-partitions", j => j.RunAsync(CancellationToken.None), Cron.Daily(3, 30));
            jobs.AddOrUpdate<PurgeClusterPlanVersionsJob>("purge-cluster-plan-versions", j => j.RunAsync(CancellationToken.None), Cron.Daily(4, 30));
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

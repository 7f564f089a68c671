using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;

namespace Meta.ComputeAccess.Web.Platform;

/// <summary>
/// A global Hangfire filter: when a job ends in the Failed state (its automatic retries spent), every admin gets an
/// admin.job-failed notice, written in a scope and transaction of its own so it does not depend on the failed job.
/// </summary>
public sealed partial class JobFailureNotifier(IServiceScopeFactory scopes, ILogger<JobFailureNotifier> logger) : IApplyStateFilter
{
    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        if (context.NewState is not FailedState failed)
        {
            return;
        }
        var jobId = context.BackgroundJob.Id;
        var jobName = context.BackgroundJob.Job is { } job ? $"{job.Type.Name}.{job.Method.Name}" : "unknown job";
        try
        {
            // Hangfire's filter hooks are synchronous; the worker thread has no synchronization context to deadlock.
            NotifyAsync(jobId, jobName, failed).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A notice that cannot be written must never change the job's own state.
            LogNotifyFailed(logger, ex, jobId);
        }
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
    }

    private async Task NotifyAsync(string jobId, string jobName, FailedState failed)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var notifier = scope.ServiceProvider.GetRequiredService<Notifier>();
        var error = $"{failed.Exception.GetType().Name}: {failed.Exception.Message}";
        await notifier.NotifyAdminsAsync(NotificationKinds.AdminJobFailed, jobName, $"/admin/jobs/jobs/details/{Uri.EscapeDataString(jobId)}",
            new Dictionary<string, string>
            {
                ["job"] = jobId,
                ["error"] = error.Length > 500 ? error[..500] + "…" : error,
            });
        await db.SaveChangesAsync();
        LogNotified(logger, jobId);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Background job {JobId} failed; admins notified")]
    private static partial void LogNotified(ILogger logger, string jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not notify admins that background job {JobId} failed")]
    private static partial void LogNotifyFailed(ILogger logger, Exception ex, string jobId);
}

/// <summary>Adds <see cref="JobFailureNotifier"/> to the filters Hangfire's server applies, next to the global ones.</summary>
internal sealed class PortalJobFilterProvider(JobFailureNotifier failureNotifier) : IJobFilterProvider
{
    public IEnumerable<JobFilter> GetFilters(Job job) =>
        JobFilterProviders.Providers.GetFilters(job).Append(new JobFilter(failureNotifier, JobFilterScope.Global, null));
}

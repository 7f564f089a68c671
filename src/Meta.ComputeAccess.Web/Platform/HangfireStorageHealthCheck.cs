using Hangfire;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Meta.ComputeAccess.Web.Platform;

/// <summary>Ready only when Hangfire can read its storage (the <c>hangfire</c> schema).</summary>
internal sealed class HangfireStorageHealthCheck(JobStorage storage) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var stats = storage.GetMonitoringApi().GetStatistics();
            return Task.FromResult(HealthCheckResult.Healthy($"{stats.Servers} server(s), {stats.Enqueued} enqueued, {stats.Failed} failed"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Hangfire storage is not reachable", ex));
        }
    }
}

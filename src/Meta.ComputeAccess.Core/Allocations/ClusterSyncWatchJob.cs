using System.Globalization;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// Hourly (safe to run any number of times): tells the admins when a cluster's agent has not called the portal for
/// <see cref="ClusterSyncReports.StaleAfter"/>, once per silence (table <c>cluster_silence_alerts</c>, keyed by when it began).
/// </summary>
public sealed partial class ClusterSyncWatchJob(PortalDbContext db, Notifier notifier, TimeProvider clock, ILogger<ClusterSyncWatchJob> log)
{
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        foreach (var silent in (await ClusterSyncReports.SummariesAsync(db, now, cancellationToken)).Where(s => s.Stale))
        {
            var since = silent.SilentSince!.Value;
            if (await db.ClusterSilenceAlerts.AnyAsync(a => a.ClusterId == silent.ClusterId && a.Since == since, cancellationToken))
            {
                continue;
            }
            db.ClusterSilenceAlerts.Add(new ClusterSilenceAlert(silent.ClusterId, since, now));
            await notifier.NotifyAdminsAsync(NotificationKinds.AdminClusterSilent, silent.Name, $"/Admin/Clusters/Sync/{silent.Slug}",
                new Dictionary<string, string> { ["since"] = since.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            LogSilent(silent.ClusterId, since);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster {ClusterId} has not called the portal since {Since}; admins told")]
    private partial void LogSilent(Guid clusterId, DateTimeOffset since);
}

/// <summary>A silence of a cluster's agent the admins were told about, by when it began.</summary>
public sealed class ClusterSilenceAlert
{
    public Guid ClusterId { get; private set; }

    public DateTimeOffset Since { get; private set; }

    public DateTimeOffset SentAt { get; private set; }

    private ClusterSilenceAlert()
    {
    }

    internal ClusterSilenceAlert(Guid clusterId, DateTimeOffset since, DateTimeOffset sentAt)
    {
        ClusterId = clusterId;
        Since = since;
        SentAt = sentAt;
    }
}

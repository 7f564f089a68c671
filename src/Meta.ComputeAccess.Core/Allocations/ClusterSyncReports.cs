using System.Globalization;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Meta.ComputeAccess.Allocations;

/// <summary>What became of a report: stored, or the same body received before (then nothing was stored again).</summary>
public sealed record SyncReportReceipt(long ReportId, bool Duplicate, int Accounts, int Failed);

/// <summary>An account's state in Slurm on one cluster, as the latest real (not dry-run) report of its agent said.</summary>
public sealed record AccountSyncState(
    Guid ClusterId,
    DateTimeOffset ReportedAt,
    SyncOutcome Outcome,
    bool InSlurm,
    long? LimitApplied,
    IReadOnlyList<string> MembersAdded,
    IReadOnlyList<string> MembersRemoved,
    IReadOnlyList<string> MembersInSlurm,
    long? UsageInSlurmMinutes,
    string? Error)
{
    /// <summary>The outcome in a few words for people: "not in Slurm", "limit applied", "member added: x", "failed: …".</summary>
    public IReadOnlyList<string> Phrases
    {
        get
        {
            var phrases = new List<string>();
            if (Outcome == SyncOutcome.Failed)
            {
                phrases.Add("failed: " + (Error ?? "no reason given"));
            }
            if (!InSlurm)
            {
                phrases.Add("not in Slurm");
            }
            else if (LimitApplied is { } limit)
            {
                phrases.Add(string.Create(CultureInfo.InvariantCulture, $"limit applied: {limit:N0} GPU-minutes"));
            }
            else
            {
                phrases.Add("no GPU limit in Slurm");
            }
            phrases.AddRange(MembersAdded.Select(m => $"member added: {m}"));
            phrases.AddRange(MembersRemoved.Select(m => $"member removed: {m}"));
            if (Outcome == SyncOutcome.Skipped)
            {
                phrases.Add("skipped" + (Error is null ? "" : ": " + Error));
            }
            return phrases;
        }
    }
}

/// <summary>A cluster's agent at a glance, for the admins: when it last reported or called, and whether that is too long ago.</summary>
/// <param name="Expected">The cluster should report: it is not retired and has an unrevoked token or has reported before.</param>
/// <param name="SilentSince">When the silence began: the last report or call with the cluster's token, or the first unrevoked token when it never called.</param>
public sealed record ClusterSyncSummary(
    Guid ClusterId,
    string Name,
    string Slug,
    DateTimeOffset? LastReportAt,
    bool LastDryRun,
    string? LastError,
    int LastAccounts,
    int LastFailed,
    bool Expected,
    DateTimeOffset? SilentSince,
    bool Stale);

/// <summary>A report in the admin's list.</summary>
public sealed record SyncReportLine(long Id, DateTimeOffset ReceivedAt, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, string? AgentVersion, string? PlanETag, bool DryRun, string? Error, int Accounts, int Failed);

/// <summary>One account in a report, for the admin's page.</summary>
public sealed record SyncOutcomeLine(string Account, Guid? AllocationId, AccountSyncState State);

/// <summary>
/// Sync reports of the clusters' agents: received (append-only, a body sent twice stored once) and read back for the
/// allocation and admin pages. A cluster whose agent has not called the portal for <see cref="StaleAfter"/> is flagged.
/// </summary>
public sealed partial class ClusterSyncReports(PortalDbContext db, TimeProvider clock, ILogger<ClusterSyncReports> log)
{
    /// <summary>
    /// An agent runs every 15 minutes or so; two hours without a call means it stopped. A call is a report or any use of
    /// the cluster's token: an agent whose plan is unchanged fetches it (304) and sends no report until it re-applies.
    /// </summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(2);

    /// <summary>Stores a checked report with each account's outcome, linked to the cluster's allocation it names.</summary>
    public async Task<SyncReportReceipt> ReceiveAsync(Guid clusterId, SyncReport report, byte[] bodySha256, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (await DuplicateAsync(clusterId, bodySha256, cancellationToken) is { } earlier)
        {
            return earlier;
        }
        var named = report.Accounts.Select(a => Guid.TryParse(a.AllocationId, out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty).Distinct().ToList();
        var known = await db.AllocationQuotas.AsNoTracking().Where(q => q.ClusterId == clusterId && named.Contains(q.AllocationId))
            .Select(q => q.AllocationId).ToDictionaryAsync(id => id, cancellationToken);
        var stored = new ClusterSyncReport(clusterId, report, bodySha256, known, clock.GetUtcNow());
        db.ClusterSyncReports.Add(stored);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // The same body arrived twice at once: the other request stored it.
            db.ChangeTracker.Clear();
            return await DuplicateAsync(clusterId, bodySha256, cancellationToken) ?? throw new InvalidOperationException("A sync report was refused as a duplicate but is not stored.", ex);
        }
        LogReceived(clusterId, stored.Id, stored.AccountCount, stored.FailedCount, stored.DryRun);
        return new SyncReportReceipt(stored.Id, false, stored.AccountCount, stored.FailedCount);
    }

    private Task<SyncReportReceipt?> DuplicateAsync(Guid clusterId, byte[] bodySha256, CancellationToken cancellationToken) =>
        db.ClusterSyncReports.AsNoTracking().Where(r => r.ClusterId == clusterId && r.BodySha256 == bodySha256)
            .Select(r => new SyncReportReceipt(r.Id, true, r.AccountCount, r.FailedCount)).SingleOrDefaultAsync(cancellationToken);

    /// <summary>
    /// The allocation's latest real outcome on each of <paramref name="clusterIds"/> that reported it. By allocation, not
    /// by account: a renewal reuses its account, and an ended allocation's page must not show its renewal's state.
    /// </summary>
    public static async Task<IReadOnlyDictionary<Guid, AccountSyncState>> LatestForAllocationAsync(PortalDbContext db, Guid allocationId, IReadOnlyCollection<Guid> clusterIds, CancellationToken cancellationToken = default)
    {
        var latest = await (from o in db.ClusterSyncOutcomes
                            where o.AllocationId == allocationId && clusterIds.Contains(o.ClusterId)
                            join r in db.ClusterSyncReports on o.ReportId equals r.Id
                            where !r.DryRun
                            group o by o.ClusterId into g
                            select g.Max(o => o.Id)).ToListAsync(cancellationToken);
        return (await OutcomesAsync(db, db.ClusterSyncOutcomes.Where(o => latest.Contains(o.Id)), cancellationToken)).ToDictionary(o => o.State.ClusterId, o => o.State);
    }

    /// <summary>Every cluster with its agent's last report; stale ones are flagged.</summary>
    public static async Task<IReadOnlyList<ClusterSyncSummary>> SummariesAsync(PortalDbContext db, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var clusters = await db.Clusters.AsNoTracking().OrderBy(c => c.Name)
            .Select(c => new
            {
                c.Id,
                c.Name,
                c.Slug,
                c.Status,
                Last = db.ClusterSyncReports.Where(r => r.ClusterId == c.Id).OrderByDescending(r => r.Id)
                    .Select(r => new { r.ReceivedAt, r.DryRun, r.Error, r.AccountCount, r.FailedCount }).FirstOrDefault(),
                FirstToken = db.ClusterTokens.Where(t => t.ClusterId == c.Id && t.RevokedAt == null).Min(t => (DateTimeOffset?)t.CreatedAt),
                LastCall = db.ClusterTokens.Where(t => t.ClusterId == c.Id && t.RevokedAt == null).Max(t => t.LastUsedAt),
            })
            .ToListAsync(cancellationToken);
        return [.. clusters.Select(c =>
        {
            var expected = c.Status != ClusterStatus.Retired && (c.FirstToken is not null || c.Last is not null);
            var heard = c.Last?.ReceivedAt > c.LastCall || c.LastCall is null ? c.Last?.ReceivedAt : c.LastCall;
            var since = heard ?? c.FirstToken;
            return new ClusterSyncSummary(c.Id, c.Name, c.Slug, c.Last?.ReceivedAt, c.Last?.DryRun ?? false, c.Last?.Error, c.Last?.AccountCount ?? 0, c.Last?.FailedCount ?? 0,
                expected, since, expected && since is { } s && now - s > StaleAfter);
        })];
    }

    /// <summary>The latest reports of a cluster, newest first.</summary>
    public static async Task<IReadOnlyList<SyncReportLine>> RecentAsync(PortalDbContext db, Guid clusterId, int count, CancellationToken cancellationToken = default) =>
        await db.ClusterSyncReports.AsNoTracking().Where(r => r.ClusterId == clusterId).OrderByDescending(r => r.Id).Take(count)
            .Select(r => new SyncReportLine(r.Id, r.ReceivedAt, r.StartedAt, r.FinishedAt, r.AgentVersion, r.PlanETag, r.DryRun, r.Error, r.AccountCount, r.FailedCount))
            .ToListAsync(cancellationToken);

    /// <summary>Every account of the cluster's latest real report that had accounts (the cluster's picture of Slurm), by account.</summary>
    public static async Task<(SyncReportLine? Report, IReadOnlyList<SyncOutcomeLine> Outcomes)> LatestPictureAsync(PortalDbContext db, Guid clusterId, CancellationToken cancellationToken = default)
    {
        var report = await db.ClusterSyncReports.AsNoTracking().Where(r => r.ClusterId == clusterId && !r.DryRun && r.AccountCount > 0).OrderByDescending(r => r.Id)
            .Select(r => new SyncReportLine(r.Id, r.ReceivedAt, r.StartedAt, r.FinishedAt, r.AgentVersion, r.PlanETag, r.DryRun, r.Error, r.AccountCount, r.FailedCount))
            .FirstOrDefaultAsync(cancellationToken);
        return report is null ? (null, []) : (report, await OutcomesAsync(db, db.ClusterSyncOutcomes.Where(o => o.ReportId == report.Id), cancellationToken));
    }

    private static async Task<IReadOnlyList<SyncOutcomeLine>> OutcomesAsync(PortalDbContext db, IQueryable<ClusterSyncOutcome> outcomes, CancellationToken cancellationToken) =>
        (await (from o in outcomes.AsNoTracking()
                join r in db.ClusterSyncReports on o.ReportId equals r.Id
                orderby o.Account, o.Id
                select new { Outcome = o, r.ReceivedAt }).ToListAsync(cancellationToken))
            .Select(x => new SyncOutcomeLine(x.Outcome.Account, x.Outcome.AllocationId, new AccountSyncState(
                x.Outcome.ClusterId, x.ReceivedAt, x.Outcome.Outcome, x.Outcome.InSlurm, x.Outcome.LimitApplied, x.Outcome.MembersAdded, x.Outcome.MembersRemoved,
                x.Outcome.MembersInSlurm, x.Outcome.UsageInSlurmMinutes, x.Outcome.Error)))
            .ToList();

    [LoggerMessage(Level = LogLevel.Information, Message = "Sync report {ReportId} from cluster {ClusterId}: {Accounts} accounts, {Failed} failed, dry run {DryRun}")]
    private partial void LogReceived(Guid clusterId, long reportId, int accounts, int failed, bool dryRun);
}

using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// Daily (and safe to run any number of times): starts pending allocations on their start date (and announces them);
/// expires allocations past their end date, writing an expiry entry
/// for each cluster's remainder; marks used-up ones exhausted; sends the 50/80/100 % notices, the
/// "runs out more than 30 days early" notice and the 30-days-idle notice, each once (table <c>allocation_notices_sent</c>).
/// Each allocation is handled in its own transaction, under its row lock.
/// </summary>
public sealed partial class AllocationLifecycleJob(PortalDbContext db, AllocationService allocations, AllocationNotices notices, TimeProvider clock, ILogger<AllocationLifecycleJob> log)
{
    public static readonly int[] Thresholds = [50, 80, 100];

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        // By start date: an account's earlier allocation expires before its renewal starts in the same run.
        var open = await db.Allocations.AsNoTracking()
            .Where(a => Allocation.OpenStates.Contains(a.State))
            .OrderBy(a => a.StartDate)
            .ThenBy(a => a.Id)
            .Select(a => a.Id)
            .ToListAsync(cancellationToken);
        foreach (var id in open)
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var allocation = await allocations.LockAsync(id, cancellationToken);
            if (allocation.IsOpen)
            {
                if (allocation.EndDate < today)
                {
                    await ExpireAsync(allocation, now, cancellationToken);
                }
                else if (allocation.State == AllocationState.Pending)
                {
                    // Not started: not watched (it cannot be idle or used up before its start date).
                    if (allocation.StartDate <= today)
                    {
                        allocation.Activate(now);
                        await notices.ActiveAsync(allocation, cancellationToken);
                        LogActivated(allocation.Id);
                    }
                }
                else
                {
                    await WatchAsync(allocation, now, cancellationToken);
                }
            }
            await db.SaveChangesAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
            db.ChangeTracker.Clear();
        }
    }

    private async Task ExpireAsync(Allocation allocation, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var expired = 0m;
        foreach (var quota in allocation.Quotas.Where(q => q.RemainingHours > 0))
        {
            expired += quota.RemainingHours;
            allocations.Post(allocation.Id, quota, LedgerEntryKind.Expiry, -quota.RemainingHours, allocation.EndsAt, now,
                $"Unused hours expired at the end date {allocation.EndDate:yyyy-MM-dd}", null);
        }
        allocation.Expire(now);
        await notices.ExpiredAsync(allocation, expired, cancellationToken);
        LogExpired(allocation.Id, expired);
    }

    private async Task WatchAsync(Allocation allocation, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var granted = allocation.Quotas.Sum(q => q.GrantedHours);
        var used = allocation.Quotas.Sum(q => q.UsedHours);
        if (granted <= 0)
        {
            return;
        }
        var sent = await db.AllocationNoticesSent.Where(n => n.AllocationId == allocation.Id).Select(n => n.Key).ToListAsync(cancellationToken);
        // Only the highest threshold crossed is mailed; lower ones are marked so they never arrive late.
        var crossed = Thresholds.Where(t => used * 100 >= granted * t && !sent.Contains($"used-{t}")).ToList();
        foreach (var t in crossed)
        {
            db.AllocationNoticesSent.Add(new AllocationNoticeSent(allocation.Id, $"used-{t}", now));
        }
        if (crossed.Count > 0)
        {
            await notices.ThresholdAsync(allocation, crossed.Max(), cancellationToken);
        }
        if (allocation.State == AllocationState.Active && used >= granted)
        {
            allocation.MarkExhausted(now);
            return;
        }
        if (allocation.State != AllocationState.Active || now < allocation.StartsAt)
        {
            return;
        }
        foreach (var days in (int[])[30, 7])
        {
            var key = $"expiring-{days}";
            if (allocation.EndsAt - now <= TimeSpan.FromDays(days) && allocation.EndsAt > now && !sent.Contains(key))
            {
                db.AllocationNoticesSent.Add(new AllocationNoticeSent(allocation.Id, key, now));
                // Inside 7 days the 30-day notice is not sent late: mark it and send only the nearer one.
                if (days == 30 && allocation.EndsAt - now <= TimeSpan.FromDays(7))
                {
                    continue;
                }
                await notices.ExpiringAsync(allocation, days, cancellationToken);
            }
        }
        var entries = await db.LedgerEntries.AsNoTracking().Where(e => e.AllocationId == allocation.Id).ToListAsync(cancellationToken);
        var ledger = entries.Select(e => e.ToLedgerEntry()).ToList();
        var projection = QuotaLedger.Project(ledger, null, allocation.StartsAt, allocation.EndsAt, now);
        if (projection.ShortOfEnd is { } shortBy && shortBy > TimeSpan.FromDays(30) && !sent.Contains("projected-short"))
        {
            db.AllocationNoticesSent.Add(new AllocationNoticeSent(allocation.Id, "projected-short", now));
            await notices.ProjectedShortAsync(allocation, projection.ProjectedExhaustion!.Value, cancellationToken);
        }
        var lastUse = entries.Where(e => e.Kind == LedgerEntryKind.Usage).Select(e => (DateTimeOffset?)e.EffectiveAt).Max() ?? allocation.StartsAt;
        if (now - lastUse >= TimeSpan.FromDays(30))
        {
            // Once per idle spell: the key names the day the spell began.
            var key = $"idle-{lastUse:yyyyMMdd}";
            if (!sent.Contains(key))
            {
                db.AllocationNoticesSent.Add(new AllocationNoticeSent(allocation.Id, key, now));
                await notices.IdleAsync(allocation, cancellationToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Allocation {AllocationId} reached its start date and is active")]
    private partial void LogActivated(Guid allocationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Allocation {AllocationId} expired; {ExpiredHours} GPU-hours written off")]
    private partial void LogExpired(Guid allocationId, decimal expiredHours);
}

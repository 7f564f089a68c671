using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Usage;

/// <summary>Why a finished job was not charged when its cluster reported it (kept with the unmatched usage).</summary>
public enum UnmatchedReason
{
    /// <summary>No allocation with hours on the job's cluster has the job's Slurm account.</summary>
    UnknownAccount,

    /// <summary>The job ended before the account's allocation started.</summary>
    EndedBeforeStart,

    /// <summary>The job ended after the account's allocation ended.</summary>
    EndedAfterEnd,

    /// <summary>The allocation whose period holds the job's end is expired or closed.</summary>
    AllocationClosed,
}

/// <summary>
/// Which allocation pays for a finished job: the allocation of the job's Slurm account, with hours on the job's
/// cluster, whose period contains the job's END, and which is open (<see cref="Allocation.ChargeableStates"/>). A
/// period is UTC days like every allocation date: from 00:00 UTC of the start date to the end of the end date
/// (<see cref="Allocation.StartsAt"/> inclusive to <see cref="Allocation.EndsAt"/> exclusive). A job that started
/// before the start date and ended inside the period is charged whole. Anything else waits as unmatched usage, with
/// the <see cref="UnmatchedReason"/>.
/// </summary>
internal sealed class AllocationMatcher
{
    private readonly Dictionary<string, Candidate[]> byAccount;

    private AllocationMatcher(Dictionary<string, Candidate[]> byAccount) => this.byAccount = byAccount;

    private readonly record struct Candidate(Guid Id, DateTimeOffset StartsAt, DateTimeOffset EndsAt, bool Open);

    /// <summary>Every allocation with hours on the cluster, in any state (a closed one still explains why a job is not charged).</summary>
    public static async Task<AllocationMatcher> LoadAsync(PortalDbContext db, Guid clusterId, CancellationToken cancellationToken)
    {
        var allocations = await db.Allocations.AsNoTracking().Where(a => a.Quotas.Any(q => q.ClusterId == clusterId)).ToListAsync(cancellationToken);
        return For(allocations);
    }

    public static AllocationMatcher For(IEnumerable<Allocation> allocations) =>
        new(allocations.GroupBy(a => a.SlurmAccount, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(a => new Candidate(a.Id, a.StartsAt, a.EndsAt, a.IsOpen)).OrderBy(c => c.StartsAt).ToArray(), StringComparer.Ordinal));

    /// <summary>The allocation that pays for a job of <paramref name="account"/> that ended at <paramref name="end"/>; null, with the reason, when none does.</summary>
    public Guid? Match(string account, DateTimeOffset end, out UnmatchedReason reason)
    {
        if (!byAccount.TryGetValue(account, out var candidates))
        {
            reason = UnmatchedReason.UnknownAccount;
            return null;
        }
        var inClosedPeriod = false;
        var endedAfterOne = false;
        foreach (var c in candidates)
        {
            if (end >= c.StartsAt && end < c.EndsAt)
            {
                if (c.Open)
                {
                    reason = default;
                    return c.Id;
                }
                inClosedPeriod = true;
            }
            endedAfterOne |= end >= c.EndsAt;
        }
        // Between two allocations of the account, the job ran after the earlier one had ended.
        reason = inClosedPeriod ? UnmatchedReason.AllocationClosed : endedAfterOne ? UnmatchedReason.EndedAfterEnd : UnmatchedReason.EndedBeforeStart;
        return null;
    }
}

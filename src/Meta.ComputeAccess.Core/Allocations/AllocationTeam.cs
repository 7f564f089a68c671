using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>A member's access on one cluster of the allocation.</summary>
/// <param name="InSlurm">Whether the cluster's latest report lists the login among the account's users; null when there
/// is no confirmed login or no report of the account yet.</param>
public sealed record MemberClusterAccess(Guid ClusterId, string? Login, bool LoginConfirmed, bool? InSlurm);

public sealed record MemberLine(Guid UserId, string Name, string Email, AllocationMemberRole Role, AllocationMemberStatus Status, DateTimeOffset Since, IReadOnlyList<MemberClusterAccess> Access);

public sealed record MemberHistoryLine(DateTimeOffset At, string Member, string Action, string? Actor, string Detail);

/// <summary>The account on one cluster: what its agent last reported, and the limit the portal asks for.</summary>
public sealed record ClusterSyncLine(Guid ClusterId, string ClusterName, AccountSyncState? State, long PlannedLimit)
{
    /// <summary>Slurm's limit is not (yet) the portal's: the agent's next run applies it.</summary>
    public bool LimitPending => State is { InSlurm: true } s && s.LimitApplied != PlannedLimit;
}

/// <summary>
/// Who is on an allocation and where Slurm stands, for the allocation pages: members (active and invited) with their
/// logins on the allocation's clusters and whether each is in Slurm yet (from the clusters' latest sync reports), the
/// membership history, and the account's sync outcome per cluster. Read only for an allocation the viewer may see.
/// </summary>
public sealed record AllocationTeam(IReadOnlyList<MemberLine> Members, IReadOnlyList<MemberHistoryLine> History, IReadOnlyList<ClusterSyncLine> Sync)
{
    public static async Task<AllocationTeam> LoadAsync(PortalDbContext db, AllocationReport report, CancellationToken cancellationToken = default)
    {
        var allocation = report.Allocation;
        var clusterIds = report.Quotas.Select(q => q.ClusterId).ToList();
        var members = await (from m in db.AllocationMembers.AsNoTracking()
                             where m.AllocationId == allocation.Id && (m.Status == AllocationMemberStatus.Active || m.Status == AllocationMemberStatus.Invited)
                             join u in db.Users on m.UserId equals u.Id
                             orderby m.Role, u.FullName
                             select new { m.UserId, u.FullName, u.Email, m.Role, m.Status, m.Since }).ToListAsync(cancellationToken);
        var userIds = members.Select(m => m.UserId).ToList();
        var logins = await db.ClusterLogins.AsNoTracking().Where(l => userIds.Contains(l.UserId) && clusterIds.Contains(l.ClusterId))
            .ToDictionaryAsync(l => (l.UserId, l.ClusterId), l => (l.Login, l.Confirmed), cancellationToken);
        var sync = await ClusterSyncReports.LatestForAllocationAsync(db, allocation.Id, clusterIds, cancellationToken);
        var events = await (from e in db.AllocationMemberEvents.AsNoTracking()
                            where e.AllocationId == allocation.Id
                            join u in db.Users on e.UserId equals u.Id
                            orderby e.Id descending
                            select new { e.At, Member = u.FullName, e.Action, e.ActorUserId, e.Detail }).ToListAsync(cancellationToken);
        var actorIds = events.Where(e => e.ActorUserId is not null).Select(e => e.ActorUserId!.Value).Distinct().ToList();
        var actors = await db.Users.AsNoTracking().Where(u => actorIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.FullName, cancellationToken);

        return new AllocationTeam(
            [.. members.Select(m => new MemberLine(m.UserId, m.FullName, m.Email ?? "", m.Role, m.Status, m.Since, [.. report.Quotas.Select(q =>
            {
                var login = logins.TryGetValue((m.UserId, q.ClusterId), out var l) ? l : default;
                bool? inSlurm = login.Confirmed && sync.TryGetValue(q.ClusterId, out var state) ? state.MembersInSlurm.Contains(login.Login, StringComparer.Ordinal) : null;
                return new MemberClusterAccess(q.ClusterId, login.Login, login.Confirmed, inSlurm);
            })]))],
            [.. events.Select(e => new MemberHistoryLine(e.At, e.Member, e.Action, e.ActorUserId is { } a ? actors.GetValueOrDefault(a) : null, e.Detail))],
            [.. report.Quotas.Select(q => new ClusterSyncLine(q.ClusterId, q.ClusterName, sync.GetValueOrDefault(q.ClusterId), QuotaExportRow.Limit(allocation.State, q.Rates.ToNative(q.Granted))))]);
    }
}

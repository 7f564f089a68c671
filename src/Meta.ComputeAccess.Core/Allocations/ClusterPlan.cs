using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>One account of a cluster's plan: what the cluster's agent makes Slurm hold for it.</summary>
/// <param name="UsageEpoch">
/// The id of the allocation in force. A renewal is a new allocation of an account Slurm has seen before, so a new epoch:
/// the agent resets the association's raw usage once, when it first sees the account active with it (on the new
/// allocation's start date), and the account runs exactly its new grant.
/// </param>
/// <param name="Members">The logins allowed to run under the account: active members with a confirmed login on the
/// cluster, sorted; empty once the allocation has ended (everyone is removed).</param>
public sealed record PlanAccount(
    string Account,
    Guid AllocationId,
    AllocationState State,
    long LimitTresMinutes,
    DateOnly Start,
    DateOnly End,
    string UsageEpoch,
    IReadOnlyList<string> Members);

/// <summary>
/// The plan a cluster's agent applies (<c>GET /api/v1/clusters/{cluster}/associations</c>, contract in
/// deploy/cluster/README.md): every account of <see cref="QuotaExport"/> with its state, limit, dates, usage epoch and
/// members' logins. <see cref="ETag"/> is a hash of that content, so an unchanged plan has the same tag (and the same
/// bytes: <see cref="GeneratedAt"/> is when this content was first served).
/// </summary>
/// <param name="Tres">The TRES every limit is in, in native TRES-minutes: the first TRES of the cluster's charge policy in
/// force (<c>gres/gpu</c> by default); the released hours in the program's unit are converted at its rate, as in the
/// <c>/quotas</c> export.</param>
public sealed record ClusterPlan(string Cluster, string SlurmCluster, string Tres, IReadOnlyList<PlanAccount> Accounts, string ETag, DateTimeOffset GeneratedAt)
{
    public static async Task<ClusterPlan> ForClusterAsync(PortalDbContext db, Guid clusterId, TimeProvider clock, CancellationToken cancellationToken = default)
    {
        var export = await QuotaExport.ForClusterAsync(db, clusterId, clock.GetUtcNow(), cancellationToken);
        var running = export.Accounts.Select(a => a.AllocationId).ToList();
        var logins = (await (from m in db.AllocationMembers.AsNoTracking()
                             where running.Contains(m.AllocationId) && m.Status == AllocationMemberStatus.Active
                             join l in db.ClusterLogins.AsNoTracking() on m.UserId equals l.UserId
                             where l.ClusterId == clusterId && l.Confirmed
                             select new { m.AllocationId, l.Login }).ToListAsync(cancellationToken))
            .ToLookup(x => x.AllocationId, x => x.Login);
        var accounts = export.All.Select(a => new PlanAccount(
            a.SlurmAccount, a.AllocationId, a.State, a.LimitMinutes, a.StartDate, a.EndDate, a.AllocationId.ToString("D"),
            [.. logins[a.AllocationId].Distinct().Order(StringComparer.Ordinal)])).ToList();
        var etag = Tag(export.ClusterSlug, export.SlurmClusterName, export.Tres, accounts);
        var generatedAt = await FirstServedAsync(db, clusterId, etag, accounts.Count, clock.GetUtcNow(), cancellationToken);
        return new ClusterPlan(export.ClusterSlug, export.SlurmClusterName, export.Tres, accounts, etag, generatedAt);
    }

    /// <summary>The strong entity tag of a plan's content (quoted, as in the header).</summary>
    private static string Tag(string cluster, string slurmCluster, string tres, IReadOnlyList<PlanAccount> accounts)
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{cluster}\n{slurmCluster}\n{tres}\n");
        foreach (var a in accounts)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{a.Account}|{a.AllocationId:D}|{a.State}|{a.LimitTresMinutes}|{a.Start:yyyy-MM-dd}|{a.End:yyyy-MM-dd}|{a.UsageEpoch}|{string.Join(',', a.Members)}\n");
        }
        return "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..32] + "\"";
    }

    /// <summary>When this content was first served (recorded now if never): the plan's <c>generatedAt</c>, the same for every answer with the tag.</summary>
    private static async Task<DateTimeOffset> FirstServedAsync(PortalDbContext db, Guid clusterId, string etag, int accounts, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var known = await db.ClusterPlanVersions.AsNoTracking().Where(v => v.ClusterId == clusterId && v.ETag == etag)
            .Select(v => (DateTimeOffset?)v.FirstServedAt).SingleOrDefaultAsync(cancellationToken);
        if (known is { } at)
        {
            return at;
        }
        // Whole seconds, as the plan shows it; two agents asking at once both keep the first row.
        var first = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        await db.Database.ExecuteSqlAsync(
            $"INSERT INTO cluster_plan_versions (cluster_id, etag, first_served_at, accounts) VALUES ({clusterId}, {etag}, {first}, {accounts}) ON CONFLICT DO NOTHING",
            cancellationToken);
        return await db.ClusterPlanVersions.AsNoTracking().Where(v => v.ClusterId == clusterId && v.ETag == etag)
            .Select(v => v.FirstServedAt).SingleAsync(cancellationToken);
    }
}

/// <summary>A plan content a cluster was served, by its tag: when it was first served (the plan's <c>generatedAt</c>).</summary>
public sealed class ClusterPlanVersion
{
    public Guid ClusterId { get; private set; }

    public string ETag { get; private set; } = "";

    public DateTimeOffset FirstServedAt { get; private set; }

    public int Accounts { get; private set; }

    private ClusterPlanVersion()
    {
    }
}

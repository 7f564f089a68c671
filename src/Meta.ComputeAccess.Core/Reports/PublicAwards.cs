using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Reports;

/// <summary>Filters of the public page: a call by its slug, a research field, a cluster by its slug (each optional).</summary>
public sealed record AwardFilter(string? Call, string? Field, string? Cluster);

/// <summary>Hours granted on one cluster, and used when the PI agreed to show them.</summary>
public sealed record PublicClusterHours(string Cluster, string ClusterSlug, decimal Granted, decimal? Used);

public sealed record PublicOutput(OutputKind Kind, string Title, string Link, string? Doi, string Licence);

/// <summary>One award as anyone may read it.</summary>
public sealed record PublicAward(Guid Id, string Title, string Pi, string Institution, string Field, string Call, string CallSlug, DateTimeOffset AcceptedAt,
    string Summary, IReadOnlyList<PublicClusterHours> Hours, IReadOnlyList<PublicOutput> Outputs);

/// <summary>
/// The public page of awards (<c>/Awards</c>, its CSV, JSON and Atom feed): only what <see cref="ProposalVisibility.PubliclyListed"/>
/// lets through, filtered first, newest first; outputs only from reports an admin accepted.
/// </summary>
public sealed class PublicAwards(PortalDbContext db)
{
    public const int MaxListed = 500;

    /// <summary>The newest awards a feed carries.</summary>
    public const int FeedEntries = 50;

    /// <param name="limit">The most awards returned, newest first (at most <see cref="MaxListed"/>): the feed asks for <see cref="FeedEntries"/>.</param>
    public async Task<IReadOnlyList<PublicAward>> ListAsync(AwardFilter filter, int limit = MaxListed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        if (new[] { filter.Call, filter.Field, filter.Cluster }.Any(v => v is { Length: > 200 } || PlainText.HasControl(v)))
        {
            // No slug or field looks like that: nothing matches (and PostgreSQL is not asked to compare a NUL).
            return [];
        }
        var listed = db.Proposals.AsNoTracking().PubliclyListed();
        if (!string.IsNullOrWhiteSpace(filter.Call))
        {
            listed = listed.Where(p => db.Calls.Any(c => c.Id == p.CallId && c.Slug == filter.Call));
        }
        if (!string.IsNullOrWhiteSpace(filter.Field))
        {
            listed = listed.Where(p => p.ResearchField == filter.Field);
        }
        if (!string.IsNullOrWhiteSpace(filter.Cluster))
        {
            listed = listed.Where(p => p.Awards.Any(a => db.Clusters.Any(c => c.Id == a.ClusterId && c.Slug == filter.Cluster)));
        }
        var awards = await (from p in listed
                            join c in db.Calls on p.CallId equals c.Id
                            join u in db.Users on p.PiUserId equals u.Id
                            orderby p.AwardRespondedAt descending, p.Id
                            select new { p.Id, p.Title, Pi = u.FullName, u.Institution, p.ResearchField, Call = c.Title, CallSlug = c.Slug, AcceptedAt = p.AwardRespondedAt!.Value, p.PublicSummary, p.PublicUsageShown })
            .Take(Math.Min(limit, MaxListed)).ToListAsync(cancellationToken);
        var ids = awards.Select(a => (Guid?)a.Id).ToList();
        var hours = await (from a in db.Allocations.AsNoTracking()
                           where ids.Contains(a.ProposalId)
                           from q in a.Quotas
                           join c in db.Clusters on q.ClusterId equals c.Id
                           orderby c.Name
                           select new { ProposalId = a.ProposalId!.Value, c.Name, c.Slug, q.GrantedHours, q.UsedHours })
            .ToListAsync(cancellationToken);
        var outputs = await (from a in db.Allocations.AsNoTracking()
                             where ids.Contains(a.ProposalId)
                             join r in db.ProgressReports on a.Id equals r.AllocationId
                             where r.Status == ProgressReportStatus.Accepted
                             from o in r.Outputs
                             orderby r.AcceptedAt, o.Id
                             select new { ProposalId = a.ProposalId!.Value, o.Kind, o.Title, o.Doi, o.Url, o.Licence })
            .ToListAsync(cancellationToken);
        var hoursBy = hours.ToLookup(h => h.ProposalId);
        var outputsBy = outputs.ToLookup(o => o.ProposalId);
        return [.. awards.Select(a => new PublicAward(a.Id, a.Title, a.Pi, a.Institution, a.ResearchField, a.Call, a.CallSlug, a.AcceptedAt, a.PublicSummary,
            [.. hoursBy[a.Id].Select(h => new PublicClusterHours(h.Name, h.Slug, h.GrantedHours, a.PublicUsageShown ? h.UsedHours : null))],
            [.. outputsBy[a.Id].Select(o => new PublicOutput(o.Kind, o.Title, o.Doi is { } doi ? ReportOutput.DoiLink(doi) : o.Url ?? "", o.Doi, o.Licence))]))];
    }

    /// <summary>The choices of the filters: calls, fields and clusters that have a listed award.</summary>
    public async Task<(IReadOnlyList<(string Slug, string Title)> Calls, IReadOnlyList<string> Fields, IReadOnlyList<(string Slug, string Name)> Clusters)> ChoicesAsync(CancellationToken cancellationToken = default)
    {
        var listed = db.Proposals.AsNoTracking().PubliclyListed();
        var calls = await db.Calls.AsNoTracking().Where(c => listed.Any(p => p.CallId == c.Id)).OrderBy(c => c.Title).Select(c => new { c.Slug, c.Title }).ToListAsync(cancellationToken);
        var fields = await listed.Select(p => p.ResearchField).Distinct().OrderBy(f => f).ToListAsync(cancellationToken);
        var clusters = await db.Clusters.AsNoTracking().Where(c => listed.Any(p => p.Awards.Any(a => a.ClusterId == c.Id))).OrderBy(c => c.Name).Select(c => new { c.Slug, c.Name }).ToListAsync(cancellationToken);
        return ([.. calls.Select(c => (c.Slug, c.Title))], fields, [.. clusters.Select(c => (c.Slug, c.Name))]);
    }
}

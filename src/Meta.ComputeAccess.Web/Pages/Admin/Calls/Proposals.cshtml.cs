using System.Globalization;
using System.Text;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Calls;

/// <summary>
/// Every submitted proposal of a call: filter by status, cluster and field, full-text search (tsvector with a GIN
/// index), sort, page, and export the filtered list as CSV. Drafts are the applicants' own until submitted.
/// </summary>
public sealed class ProposalsModel(PortalDbContext db) : PageModel
{
    public const int PageSize = 50;

    public sealed record Row(Guid Id, string Title, ProposalStatus Status, string Pi, string Institution, string Field, DateTimeOffset? SubmittedAt, IReadOnlyList<Hours> Requests);

    public sealed record Hours(Guid ClusterId, decimal Requested);

    [FromQuery(Name = "q")]
    public string? Search { get; set; }

    [FromQuery(Name = "status")]
    public ProposalStatus? Status { get; set; }

    [FromQuery(Name = "cluster")]
    public Guid? ClusterId { get; set; }

    [FromQuery(Name = "field")]
    public string? Field { get; set; }

    [FromQuery(Name = "sort")]
    public string Sort { get; set; } = "submitted";

    [FromQuery(Name = "p")]
    public int PageNumber { get; set; } = 1;

    public Call Call { get; private set; } = null!;

    public Dictionary<Guid, string> ClusterNames { get; private set; } = [];

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public int Total { get; private set; }

    public int Pages => Math.Max(1, (int)Math.Ceiling(Total / (double)PageSize));

    public async Task<IActionResult> OnGetAsync(string slug, CancellationToken cancellationToken)
    {
        if (!await LoadCallAsync(slug, cancellationToken))
        {
            return NotFound();
        }
        var query = Filtered();
        Total = await query.CountAsync(cancellationToken);
        PageNumber = Math.Clamp(PageNumber, 1, Pages);
        // The page of proposals first, then its PIs and requested hours: nothing is looked up for the skipped rows.
        var page = await Project(Sorted(query).Skip((PageNumber - 1) * PageSize).Take(PageSize)).ToListAsync(cancellationToken);
        var ids = page.Select(r => r.Id).ToList();
        var hours = await RequestsOf(db.Set<ProposalClusterRequest>().Where(r => ids.Contains(r.ProposalId)), cancellationToken);
        Rows = [.. page.Select(r => r.ToRow(hours))];
        return Page();
    }

    public async Task<IActionResult> OnGetCsvAsync(string slug, CancellationToken cancellationToken)
    {
        if (!await LoadCallAsync(slug, cancellationToken))
        {
            return NotFound();
        }
        var clusters = Call.Clusters.Select(c => c.ClusterId).ToList();
        var csv = new StringBuilder("id,title,status,pi,institution,field,submitted_at_utc");
        foreach (var c in clusters)
        {
            csv.Append(',').Append(Csv.Escape("requested_hours_" + ClusterNames.GetValueOrDefault(c, c.ToString())));
        }
        csv.Append('\n');
        var filtered = Filtered();
        var hours = await RequestsOf(db.Set<ProposalClusterRequest>().Where(r => filtered.Select(p => p.Id).Contains(r.ProposalId)), cancellationToken);
        await foreach (var listed in Project(Sorted(filtered)).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            var r = listed.ToRow(hours);
            csv.Append(CultureInfo.InvariantCulture, $"{r.Id},{Csv.Escape(r.Title)},{r.Status},{Csv.Escape(r.Pi)},{Csv.Escape(r.Institution)},{Csv.Escape(r.Field)},{r.SubmittedAt?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}");
            foreach (var c in clusters)
            {
                csv.Append(',').Append((r.Requests.FirstOrDefault(h => h.ClusterId == c)?.Requested ?? 0).ToString(CultureInfo.InvariantCulture));
            }
            csv.Append('\n');
        }
        return File(Encoding.UTF8.GetBytes(csv.ToString()), "text/csv", $"{Call.Slug}-proposals.csv");
    }

    private IQueryable<Proposal> Filtered()
    {
        var callId = Call.Id;
        var query = db.Proposals.AsNoTracking().Where(p => p.CallId == callId && p.Status != ProposalStatus.Draft);
        if (Status is { } status)
        {
            query = query.Where(p => p.Status == status);
        }
        if (ClusterId is { } cluster)
        {
            query = query.Where(p => p.Requests.Any(r => r.ClusterId == cluster));
        }
        if (!string.IsNullOrWhiteSpace(Field))
        {
            query = query.Where(p => p.ResearchField == Field);
        }
        if (!string.IsNullOrWhiteSpace(Search))
        {
            var text = Search.Trim();
            query = query.Matching(text);
        }
        return query;
    }

    private IQueryable<Proposal> Sorted(IQueryable<Proposal> query) => Sort switch
    {
        "title" => query.OrderBy(p => p.Title).ThenBy(p => p.Id),
        "status" => query.OrderBy(p => p.Status).ThenBy(p => p.SubmittedAt).ThenBy(p => p.Id),
        "hours" => query.OrderByDescending(p => p.TotalRequestedHours).ThenBy(p => p.Id),
        // A join, not a lookup per row: sorting 10,000 proposals by PI name is one hash join.
        "pi" => query.Join(db.Users, p => p.PiUserId, u => u.Id, (p, u) => new { p, u.FullName }).OrderBy(x => x.FullName).ThenBy(x => x.p.Id).Select(x => x.p),
        "relevance" when !string.IsNullOrWhiteSpace(Search) => query.OrderByRelevance(Search.Trim()).ThenBy(p => p.Id),
        _ => query.OrderBy(p => p.SubmittedAt).ThenBy(p => p.Id),
    };

    /// <summary>A listed proposal without its requested hours (those are read separately for the listed ids).</summary>
    private sealed record Listed(Guid Id, string Title, ProposalStatus Status, string Pi, string Institution, string Field, DateTimeOffset? SubmittedAt)
    {
        public Row ToRow(ILookup<Guid, Hours> hours) => new(Id, Title, Status, Pi, Institution, Field, SubmittedAt, [.. hours[Id]]);
    }

    /// <summary>
    /// Joins the PI to the (already sorted and paged) proposals. A join after the page, not a scalar subquery in the
    /// select list: PostgreSQL evaluates those for every row an OFFSET skips too.
    /// </summary>
    private IQueryable<Listed> Project(IQueryable<Proposal> query) =>
        query.Join(db.Users, p => p.PiUserId, u => u.Id, (p, u) => new Listed(p.Id, p.Title, p.Status, u.FullName, u.Institution, p.ResearchField, p.SubmittedAt));

    private static async Task<ILookup<Guid, Hours>> RequestsOf(IQueryable<ProposalClusterRequest> requests, CancellationToken cancellationToken) =>
        (await requests.AsNoTracking().Select(r => new { r.ProposalId, r.ClusterId, r.RequestedHours }).ToListAsync(cancellationToken))
            .ToLookup(r => r.ProposalId, r => new Hours(r.ClusterId, r.RequestedHours));

    private async Task<bool> LoadCallAsync(string slug, CancellationToken cancellationToken)
    {
        if (await db.Calls.AsNoTracking().SingleOrDefaultAsync(c => c.Slug == slug, cancellationToken) is not { } call)
        {
            return false;
        }
        Call = call;
        var clusterIds = call.Clusters.Select(c => c.ClusterId).ToList();
        ClusterNames = await db.Clusters.AsNoTracking().Where(c => clusterIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        if (Search is { Length: > 200 })
        {
            Search = Search[..200];
        }
        return true;
    }
}

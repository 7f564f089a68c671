using System.Globalization;
using System.Text;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Infrastructure;
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
        Rows = await Project(Sorted(query).Skip((PageNumber - 1) * PageSize).Take(PageSize)).ToListAsync(cancellationToken);
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
        await foreach (var r in Project(Sorted(Filtered())).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
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
        "hours" => query.OrderByDescending(p => p.Requests.Sum(r => r.RequestedHours)).ThenBy(p => p.Id),
        "pi" => query.OrderBy(p => db.Users.Where(u => u.Id == p.PiUserId).Select(u => u.FullName).First()).ThenBy(p => p.Id),
        "relevance" when !string.IsNullOrWhiteSpace(Search) => query.OrderByRelevance(Search.Trim()).ThenBy(p => p.Id),
        _ => query.OrderBy(p => p.SubmittedAt).ThenBy(p => p.Id),
    };

    private IQueryable<Row> Project(IQueryable<Proposal> query) =>
        query.Select(p => new Row(
            p.Id,
            p.Title,
            p.Status,
            db.Users.Where(u => u.Id == p.PiUserId).Select(u => u.FullName).First(),
            db.Users.Where(u => u.Id == p.PiUserId).Select(u => u.Institution).First(),
            p.ResearchField,
            p.SubmittedAt,
            p.Requests.Select(r => new Hours(r.ClusterId, r.RequestedHours)).ToList()));

    private async Task<bool> LoadCallAsync(string slug, CancellationToken cancellationToken)
    {
        if (await db.Calls.AsNoTracking().SingleOrDefaultAsync(c => c.Slug == slug, cancellationToken) is not { } call)
        {
            return false;
        }
        Call = call;
        ClusterNames = await db.Clusters.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        if (Search is { Length: > 200 })
        {
            Search = Search[..200];
        }
        return true;
    }
}

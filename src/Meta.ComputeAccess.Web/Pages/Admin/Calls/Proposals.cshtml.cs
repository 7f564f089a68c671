using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
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

    /// <summary>The page number shown ("Page 3 of 200"); carried along by the links, never used to skip rows.</summary>
    [FromQuery(Name = "p")]
    public int PageNumber { get; set; } = 1;

    /// <summary>The last row of the page before: this page starts right after it in the sort order (keyset paging).</summary>
    [FromQuery(Name = "after")]
    public string? After { get; set; }

    /// <summary>The first row of the page after: this page ends right before it (the "Previous" link).</summary>
    [FromQuery(Name = "before")]
    public string? Before { get; set; }

    /// <summary>
    /// The total counted when the first page was shown, carried by the paging links so that later pages do not count
    /// again (counting every match costs more than reading a page of them). Only what this admin sees is affected.
    /// </summary>
    [FromQuery(Name = "n")]
    public int? CountedTotal { get; set; }

    /// <summary>What the list shows of the call: its name and the clusters it offers (a column each), in the call's order.</summary>
    public sealed record CallHeader(Guid Id, string Slug, string Title, IReadOnlyList<Guid> ClusterIds);

    public CallHeader Call { get; private set; } = null!;

    public Dictionary<Guid, string> ClusterNames { get; private set; } = [];

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public int Total { get; private set; }

    public int Pages => Math.Max(1, (int)Math.Ceiling(Total / (double)PageSize));

    /// <summary>The cursor of the last listed row, for the "Next" link; null on the last page.</summary>
    public string? NextCursor { get; private set; }

    /// <summary>The cursor of the first listed row, for the "Previous" link; null on the first page.</summary>
    public string? PreviousCursor { get; private set; }

    public async Task<IActionResult> OnGetAsync(string slug, CancellationToken cancellationToken)
    {
        if (!await LoadCallAsync(slug, cancellationToken))
        {
            return NotFound();
        }
        var query = Filtered();
        var after = ListPosition.Parse(After);
        var before = after is null ? ListPosition.Parse(Before) : null;
        Total = CountedTotal is >= 0 && (after ?? before) is not null ? CountedTotal.Value : await query.CountAsync(cancellationToken);
        // Keyset paging: the page starts after (or ends before) a row's position in the sort order, an index range
        // wherever the page is in the list; one row more than a page says whether there is a page beyond.
        var backward = before is not null;
        var page = await Project(Sorted(query, after ?? before, backward).Take(PageSize + 1)).ToListAsync(cancellationToken);
        var more = page.Count > PageSize;
        page = [.. page.Take(PageSize)];
        if (backward)
        {
            page.Reverse();
        }
        var first = after is null && before is null;
        PageNumber = first ? 1 : Math.Clamp(PageNumber, 1, Pages);
        if (page.Count > 0)
        {
            NextCursor = backward || more ? PositionOf(page[^1]).ToString() : null;
            PreviousCursor = backward ? (more ? PositionOf(page[0]).ToString() : null) : first ? null : PositionOf(page[0]).ToString();
        }
        if (backward && !more)
        {
            PageNumber = 1;
        }
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
        var clusters = Call.ClusterIds;
        var csv = new StringBuilder("id,title,status,pi,institution,field,submitted_at_utc");
        foreach (var c in clusters)
        {
            csv.Append(',').Append(Csv.Escape("requested_hours_" + ClusterNames.GetValueOrDefault(c, c.ToString())));
        }
        csv.Append('\n');
        var filtered = Filtered();
        var hours = await RequestsOf(db.Set<ProposalClusterRequest>().Where(r => filtered.Select(p => p.Id).Contains(r.ProposalId)), cancellationToken);
        await foreach (var listed in Project(Sorted(filtered, null, false)).AsAsyncEnumerable().WithCancellation(cancellationToken))
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
        // Submitted ones only: a draft withdrawn before it was submitted is not one of the call's proposals (and its null
        // submit time could not be paged past by the keyset).
        var query = db.Proposals.AsNoTracking().Where(p => p.CallId == callId && p.SubmittedAt != null);
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

    /// <summary>
    /// The sort orders, each ending with the id so that a row's position is unique, and each either all ascending or
    /// all descending so that "after this row" is one row-value comparison, <c>(title, id) &gt; (@title, @id)</c>: an
    /// index range (migration KeysetListIndexes) rather than rows skipped one by one.
    /// </summary>
    private IQueryable<Proposal> Sorted(IQueryable<Proposal> query, ListPosition? from, bool backward)
    {
        var search = Search?.Trim();
        switch (Sort)
        {
            case "title":
                var title = from?.Text ?? "";
                query = from is null ? query : backward
                    ? query.Where(p => EF.Functions.LessThan(ValueTuple.Create(p.Title, p.Id), ValueTuple.Create(title, from.Id)))
                    : query.Where(p => EF.Functions.GreaterThan(ValueTuple.Create(p.Title, p.Id), ValueTuple.Create(title, from.Id)));
                return backward ? query.OrderByDescending(p => p.Title).ThenByDescending(p => p.Id) : query.OrderBy(p => p.Title).ThenBy(p => p.Id);
            case "status":
                var status = Enum.TryParse<ProposalStatus>(from?.Text, out var s) ? s : ProposalStatus.Draft;
                var statusAt = from?.At ?? DateTimeOffset.MinValue;
                query = from is null ? query : backward
                    ? query.Where(p => EF.Functions.LessThan(ValueTuple.Create(p.Status, p.SubmittedAt, p.Id), ValueTuple.Create(status, (DateTimeOffset?)statusAt, from.Id)))
                    : query.Where(p => EF.Functions.GreaterThan(ValueTuple.Create(p.Status, p.SubmittedAt, p.Id), ValueTuple.Create(status, (DateTimeOffset?)statusAt, from.Id)));
                return backward
                    ? query.OrderByDescending(p => p.Status).ThenByDescending(p => p.SubmittedAt).ThenByDescending(p => p.Id)
                    : query.OrderBy(p => p.Status).ThenBy(p => p.SubmittedAt).ThenBy(p => p.Id);
            case "hours":
                // Most hours first: descending in both, read backwards along (call_id, total_requested_hours, id).
                var hours = from?.Hours ?? 0m;
                query = from is null ? query : backward
                    ? query.Where(p => EF.Functions.GreaterThan(ValueTuple.Create(p.TotalRequestedHours, p.Id), ValueTuple.Create(hours, from.Id)))
                    : query.Where(p => EF.Functions.LessThan(ValueTuple.Create(p.TotalRequestedHours, p.Id), ValueTuple.Create(hours, from.Id)));
                return backward ? query.OrderBy(p => p.TotalRequestedHours).ThenBy(p => p.Id) : query.OrderByDescending(p => p.TotalRequestedHours).ThenByDescending(p => p.Id);
            case "pi":
                // A join, not a lookup per row: walks the users in name order (index users (full_name, id)).
                var name = from?.Text ?? "";
                var joined = query.Join(db.Users, p => p.PiUserId, u => u.Id, (p, u) => new { p, u.FullName });
                // The name bound alone as well: a range of the users' name index (the row value spans two tables).
                joined = from is null ? joined : backward
                    ? joined.Where(x => string.Compare(x.FullName, name) <= 0 && EF.Functions.LessThan(ValueTuple.Create(x.FullName, x.p.Id), ValueTuple.Create(name, from.Id)))
                    : joined.Where(x => string.Compare(x.FullName, name) >= 0 && EF.Functions.GreaterThan(ValueTuple.Create(x.FullName, x.p.Id), ValueTuple.Create(name, from.Id)));
                return (backward ? joined.OrderByDescending(x => x.FullName).ThenByDescending(x => x.p.Id) : joined.OrderBy(x => x.FullName).ThenBy(x => x.p.Id)).Select(x => x.p);
            case "relevance" when !string.IsNullOrEmpty(search):
                return query.RankedFrom(search, from is null ? null : (from.Rank ?? 0f, from.Id), backward);
            default:
                var at = from?.At ?? DateTimeOffset.MinValue;
                query = from is null ? query : backward
                    ? query.Where(p => EF.Functions.LessThan(ValueTuple.Create(p.SubmittedAt, p.Id), ValueTuple.Create((DateTimeOffset?)at, from.Id)))
                    : query.Where(p => EF.Functions.GreaterThan(ValueTuple.Create(p.SubmittedAt, p.Id), ValueTuple.Create((DateTimeOffset?)at, from.Id)));
                return backward ? query.OrderByDescending(p => p.SubmittedAt).ThenByDescending(p => p.Id) : query.OrderBy(p => p.SubmittedAt).ThenBy(p => p.Id);
        }
    }

    /// <summary>Where a listed row stands in the current sort order.</summary>
    private ListPosition PositionOf(Listed r) => Sort switch
    {
        "title" => new ListPosition(r.Id, Text: r.Title),
        "status" => new ListPosition(r.Id, Text: r.Status.ToString(), At: r.SubmittedAt),
        "hours" => new ListPosition(r.Id, Hours: r.TotalHours),
        "pi" => new ListPosition(r.Id, Text: r.Pi),
        "relevance" when !string.IsNullOrWhiteSpace(Search) => new ListPosition(r.Id, Rank: r.Rank),
        _ => new ListPosition(r.Id, At: r.SubmittedAt),
    };

    /// <summary>A listed proposal without its requested hours (those are read separately for the listed ids).</summary>
    private sealed record Listed(Guid Id, string Title, ProposalStatus Status, string Pi, string Institution, string Field, DateTimeOffset? SubmittedAt, decimal TotalHours, float Rank)
    {
        public Row ToRow(ILookup<Guid, Hours> hours) => new(Id, Title, Status, Pi, Institution, Field, SubmittedAt, [.. hours[Id]]);
    }

    /// <summary>
    /// Joins the PI to the (already sorted and paged) proposals. A join after the page, not a scalar subquery in the
    /// select list. The rank is computed for the listed rows only, and only when the list is ordered by it.
    /// </summary>
    private IQueryable<Listed> Project(IQueryable<Proposal> query)
    {
        var search = Sort == "relevance" && !string.IsNullOrWhiteSpace(Search) ? Search.Trim() : null;
        return search is null
            ? query.Join(db.Users, p => p.PiUserId, u => u.Id, (p, u) => new Listed(p.Id, p.Title, p.Status, u.FullName, u.Institution, p.ResearchField, p.SubmittedAt, p.TotalRequestedHours, 0f))
            : query.WithRank(search).Join(db.Users, x => x.Proposal.PiUserId, u => u.Id,
                (x, u) => new Listed(x.Proposal.Id, x.Proposal.Title, x.Proposal.Status, u.FullName, u.Institution, x.Proposal.ResearchField, x.Proposal.SubmittedAt, x.Proposal.TotalRequestedHours, x.Rank));
    }

    private static async Task<ILookup<Guid, Hours>> RequestsOf(IQueryable<ProposalClusterRequest> requests, CancellationToken cancellationToken) =>
        (await requests.AsNoTracking().Select(r => new { r.ProposalId, r.ClusterId, r.RequestedHours }).ToListAsync(cancellationToken))
            .ToLookup(r => r.ProposalId, r => new Hours(r.ClusterId, r.RequestedHours));

    /// <summary>The call and the names of the clusters it offers, in one query (not the call with its owned collections).</summary>
    private async Task<bool> LoadCallAsync(string slug, CancellationToken cancellationToken)
    {
        var found = await db.Calls.AsNoTracking().Where(c => c.Slug == slug)
            .Select(c => new
            {
                c.Id,
                c.Slug,
                c.Title,
                Clusters = c.Clusters.OrderBy(t => t.ClusterId).Join(db.Clusters, t => t.ClusterId, k => k.Id, (t, k) => new { k.Id, k.Name }).ToList(),
            })
            .AsSingleQuery()
            .SingleOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return false;
        }
        Call = new CallHeader(found.Id, found.Slug, found.Title, [.. found.Clusters.Select(k => k.Id)]);
        ClusterNames = found.Clusters.ToDictionary(k => k.Id, k => k.Name);
        if (Search is { Length: > 200 })
        {
            Search = Search[..200];
        }
        return true;
    }
}

/// <summary>
/// A row's position in the admin list's sort order: its id and the sort key the order reads (title or PI name or
/// status, submission time, requested hours, search rank). Written into the paging links as URL-safe base64 of JSON;
/// anything that does not parse is treated as no position (the first page).
/// </summary>
internal sealed record ListPosition(Guid Id, string? Text = null, DateTimeOffset? At = null, decimal? Hours = null, float? Rank = null)
{
    public override string ToString() => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(this));

    public static ListPosition? Parse(string? cursor)
    {
        if (string.IsNullOrWhiteSpace(cursor) || cursor.Length > 2048)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<ListPosition>(Base64Url.DecodeFromChars(cursor));
        }
        catch (Exception ex) when (ex is FormatException or JsonException or NotSupportedException or ArgumentException)
        {
            return null;
        }
    }
}

using System.Globalization;
using System.Text;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Audit;

/// <summary>Browse and export the append-only audit log.</summary>
public sealed class IndexModel(PortalDbContext db) : PageModel
{
    public const int PageSize = 100;

    /// <param name="Actor">The actor's email (the CSV's, unambiguous); <paramref name="ActorName"/> is what the page shows.</param>
    public sealed record Row(long Id, DateTimeOffset OccurredAt, string? Actor, string? ActorName, string Action, string SubjectType, string SubjectId, string Summary);

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    [FromQuery(Name = "action")]
    public string? ActionFilter { get; set; }

    [FromQuery(Name = "subject")]
    public string? Subject { get; set; }

    /// <summary>Shows entries older than this id (the last one of the previous page).</summary>
    [FromQuery(Name = "before")]
    public long? Before { get; set; }

    /// <summary>The id to ask for the next, older page with; null on the last page.</summary>
    public long? OlderBefore { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        // Keyset paging on the identity column: the same cost on page 1 and page 1,000. One row more than a page
        // says whether there is an older page.
        var rows = await Query(Before).Take(PageSize + 1).ToListAsync(cancellationToken);
        Rows = rows.Count > PageSize ? rows[..PageSize] : rows;
        OlderBefore = rows.Count > PageSize ? Rows[^1].Id : null;
    }

    public async Task<IActionResult> OnGetCsvAsync(CancellationToken cancellationToken)
    {
        var csv = new StringBuilder("id,occurred_at_utc,actor,action,subject_type,subject_id,summary\n");
        await foreach (var r in Query(before: null).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            csv.Append(CultureInfo.InvariantCulture, $"{r.Id},{r.OccurredAt.UtcDateTime:O},{Csv.Escape(r.Actor)},{Csv.Escape(r.Action)},{Csv.Escape(r.SubjectType)},{Csv.Escape(r.SubjectId)},{Csv.Escape(r.Summary)}\n");
        }
        return File(Encoding.UTF8.GetBytes(csv.ToString()), "text/csv", "audit-log.csv");
    }

    /// <summary>The filtered entries, newest first; filters apply to the entries, before they are projected into rows.</summary>
    private IQueryable<Row> Query(long? before)
    {
        var entries = db.AuditEntries.AsNoTracking();
        if (before is { } id)
        {
            entries = entries.Where(e => e.Id < id);
        }
        if (!string.IsNullOrWhiteSpace(ActionFilter))
        {
            entries = entries.Where(e => e.Action.StartsWith(ActionFilter.Trim()));
        }
        if (!string.IsNullOrWhiteSpace(Subject))
        {
            entries = entries.Where(e => e.SubjectId == Subject.Trim());
        }
        return entries
            .OrderByDescending(e => e.Id)
            .Select(e => new Row(e.Id, e.OccurredAt, db.Users.Where(u => u.Id == e.ActorUserId).Select(u => u.Email).FirstOrDefault(),
                db.Users.Where(u => u.Id == e.ActorUserId).Select(u => u.FullName).FirstOrDefault(), e.Action, e.SubjectType, e.SubjectId, e.Summary));
    }
}

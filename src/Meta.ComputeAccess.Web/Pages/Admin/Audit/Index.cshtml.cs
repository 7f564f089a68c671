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

    public sealed record Row(long Id, DateTimeOffset OccurredAt, string? Actor, string Action, string SubjectType, string SubjectId, string Summary);

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    [FromQuery(Name = "action")]
    public string? ActionFilter { get; set; }

    [FromQuery(Name = "subject")]
    public string? Subject { get; set; }

    [FromQuery(Name = "before")]
    public long? Before { get; set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        // Keyset paging on the identity column: the same cost on page 1 and page 1,000.
        Rows = await Query().Where(r => Before == null || r.Id < Before).Take(PageSize).ToListAsync(cancellationToken);
    }

    public async Task<IActionResult> OnGetCsvAsync(CancellationToken cancellationToken)
    {
        var csv = new StringBuilder("id,occurred_at_utc,actor,action,subject_type,subject_id,summary\n");
        await foreach (var r in Query().AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            csv.Append(CultureInfo.InvariantCulture, $"{r.Id},{r.OccurredAt.UtcDateTime:O},{Csv.Escape(r.Actor)},{Csv.Escape(r.Action)},{Csv.Escape(r.SubjectType)},{Csv.Escape(r.SubjectId)},{Csv.Escape(r.Summary)}\n");
        }
        return File(Encoding.UTF8.GetBytes(csv.ToString()), "text/csv", "audit-log.csv");
    }

    private IQueryable<Row> Query()
    {
        var entries = db.AuditEntries.AsNoTracking();
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
            .Select(e => new Row(e.Id, e.OccurredAt, db.Users.Where(u => u.Id == e.ActorUserId).Select(u => u.Email).FirstOrDefault(), e.Action, e.SubjectType, e.SubjectId, e.Summary));
    }
}

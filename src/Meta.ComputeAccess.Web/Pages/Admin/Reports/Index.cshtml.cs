using System.Text;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Reports;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Reports;

/// <summary>
/// Program reports for a call and a range of submission dates: each figure as a chart, an accessible table and a
/// CSV download (<c>?handler=Csv&amp;table=…</c>, the same filter).
/// </summary>
public sealed class IndexModel(PortalDbContext db, ProgramReports reports) : PageModel
{
    [FromQuery(Name = "call")]
    public Guid? CallId { get; set; }

    [FromQuery(Name = "from")]
    public DateOnly? From { get; set; }

    [FromQuery(Name = "to")]
    public DateOnly? To { get; set; }

    public IReadOnlyList<SelectListItem> Calls { get; private set; } = [];

    public ReportTotals? Totals { get; private set; }

    public IReadOnlyList<ReportTable> Tables { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        Calls = await db.Calls.AsNoTracking().OrderByDescending(c => c.OpensAt)
            .Select(c => new SelectListItem(c.Title, c.Id.ToString(), c.Id == CallId)).ToListAsync(cancellationToken);
        if (!ModelState.IsValid)
        {
            return Page();
        }
        return await this.RunAsync(async () =>
        {
            var report = await reports.BuildAsync(Scope, cancellationToken);
            Totals = report.Totals;
            Tables = ProgramReportTables.From(report);
            return Page();
        });
    }

    public async Task<IActionResult> OnGetCsvAsync(string? table, CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid)
        {
            return Refused();
        }
        return await this.RunAsync(async () =>
        {
            var report = await reports.BuildAsync(Scope, cancellationToken);
            return ProgramReportTables.From(report).FirstOrDefault(t => t.Id == table) is { } found
                ? File(Encoding.UTF8.GetBytes(found.ToCsv()), "text/csv", $"{found.Id}.csv")
                : NotFound();
        }, () => Task.FromResult<IActionResult>(Refused()));
    }

    private ReportScope Scope => new(CallId, From, To);

    /// <summary>A download link with a filter the page would refuse: 400 with the reasons as text.</summary>
    private ContentResult Refused() => new()
    {
        StatusCode = StatusCodes.Status400BadRequest,
        ContentType = "text/plain; charset=utf-8",
        Content = string.Join(" ", ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage)),
    };
}

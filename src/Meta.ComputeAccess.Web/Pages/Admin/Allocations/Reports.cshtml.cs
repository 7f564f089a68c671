using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Allocations;

/// <summary>
/// <c>/Admin/Allocations/Reports</c>: the progress and final reports that wait for the program: submitted ones to read
/// and accept, and overdue ones (<c>?show=overdue</c>); each links to its allocation, where it is accepted.
/// </summary>
public sealed class ReportsModel(PortalDbContext db, TimeProvider clock) : PageModel
{
    public sealed record Row(Guid AllocationId, string Project, string Account, string Pi, ProgressReportKind Kind, ProgressReportStatus Status, DateOnly DueOn, DateTimeOffset? SubmittedAt);

    [FromQuery(Name = "show")]
    public string? Show { get; set; }

    public bool OverdueOnly => Show == "overdue";

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var reports = OverdueOnly
            ? db.ProgressReports.Where(ProgressReport.OverdueOn(today))
            : db.ProgressReports.Where(r => r.Status == ProgressReportStatus.Submitted);
        Rows = await (from r in reports.AsNoTracking()
                      join a in db.Allocations on r.AllocationId equals a.Id
                      join u in db.Users on a.PiUserId equals u.Id
                      orderby r.DueOn, a.ProjectTitle
                      select new Row(a.Id, a.ProjectTitle, a.SlurmAccount, u.FullName, r.Kind, r.Status, r.DueOn, r.SubmittedAt))
            .Take(500).ToListAsync(cancellationToken);
    }
}

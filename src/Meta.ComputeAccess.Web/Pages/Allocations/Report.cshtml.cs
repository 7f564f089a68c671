using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Allocations;

/// <summary>
/// <c>/Allocations/{id}/Report/{reportId}</c>: the team writes (or, until it is accepted, corrects) a progress or final
/// report: a narrative and the outputs. 404 for anyone not on the allocation's team.
/// </summary>
public sealed class ReportModel(PortalDbContext db, ProgressReports reports, TimeProvider clock) : PageModel
{
    /// <summary>Empty output rows offered below the ones already given.</summary>
    public const int BlankRows = 3;

    public sealed class OutputRow
    {
        public OutputKind Kind { get; set; }

        public string? Title { get; set; }

        public string? DoiOrUrl { get; set; }

        public string? Licence { get; set; }
    }

    public sealed class InputModel
    {
        public string? Narrative { get; set; }

        public List<OutputRow> Outputs { get; set; } = [];
    }

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public Meta.ComputeAccess.Allocations.Allocation Allocation { get; private set; } = null!;

    public ProgressReport Report { get; private set; } = null!;

    public bool Overdue { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid id, Guid reportId)
    {
        if (!await LoadAsync(id, reportId))
        {
            return NotFound();
        }
        Input = new InputModel
        {
            Narrative = Report.Narrative,
            Outputs = [.. Report.Outputs.Select(o => new OutputRow { Kind = o.Kind, Title = o.Title, DoiOrUrl = o.Doi ?? o.Url, Licence = o.Licence })],
        };
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(Guid id, Guid reportId)
    {
        if (!await LoadAsync(id, reportId))
        {
            return NotFound();
        }
        if (!ModelState.IsValid)
        {
            ModelState.AddModelError("", "Some values could not be read: " + string.Join(" ", ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage)));
            return Page();
        }
        return await this.RunAsync(async () =>
        {
            var outputs = Input.Outputs.Select(o => new OutputInput(o.Kind, o.Title, o.DoiOrUrl, o.Licence)).ToList();
            if (!await reports.SubmitAsync(reportId, User.GetUserId(), Input.Narrative, outputs, HttpContext.RequestAborted))
            {
                return NotFound();
            }
            TempData.Status("Report submitted. The program will read it; you can correct it until it is accepted.");
            return Redirect($"/Allocations/{id}");
        }, () => Task.FromResult<IActionResult>(Page()), fieldPrefix: "Input.");
    }

    /// <summary>The report, through the team's scope, and on the allocation the URL names.</summary>
    private async Task<bool> LoadAsync(Guid id, Guid reportId)
    {
        var allocation = await db.Allocations.OnTeamOf(User.GetUserId()).AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, HttpContext.RequestAborted);
        var report = allocation is null ? null
            : await db.ProgressReports.AsNoTracking().Include(r => r.Outputs).SingleOrDefaultAsync(r => r.Id == reportId && r.AllocationId == id, HttpContext.RequestAborted);
        if (allocation is null || report is null)
        {
            return false;
        }
        Allocation = allocation;
        Report = report;
        Overdue = report.IsOverdue(DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime));
        return true;
    }
}

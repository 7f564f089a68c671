using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Capacity;

/// <summary>Capacity per cluster in a period: grantable, committed, used and free, as a chart and a table; new periods.</summary>
public sealed class IndexModel(PortalDbContext db, CapacityPlanning planning) : PageModel
{
    public sealed class PeriodInput
    {
        [Required(ErrorMessage = "Name the period, e.g. 2027 H1.")]
        [StringLength(64)]
        public string Name { get; set; } = "";

        [Required(ErrorMessage = "Enter the first day.")]
        public DateOnly? StartDate { get; set; }

        [Required(ErrorMessage = "Enter the last day.")]
        public DateOnly? EndDate { get; set; }
    }

    [BindProperty]
    public PeriodInput NewPeriod { get; set; } = new();

    public IReadOnlyList<AllocationPeriod> Periods { get; private set; } = [];

    public AllocationPeriod? Period { get; private set; }

    public IReadOnlyList<CapacityRow> Rows { get; private set; } = [];

    public async Task OnGetAsync(Guid? period) => await LoadAsync(period);

    public async Task<IActionResult> OnPostPeriodAsync()
    {
        async Task<IActionResult> ShowAgain()
        {
            await LoadAsync(null);
            return Page();
        }
        if (!ModelState.IsValid)
        {
            return await ShowAgain();
        }
        return await this.RunAsync(async () =>
        {
            var created = await planning.CreatePeriodAsync(NewPeriod.Name, NewPeriod.StartDate!.Value, NewPeriod.EndDate!.Value, User.GetUserId());
            TempData.Status($"Period {created.Name} created; set each cluster's capacity.");
            return RedirectToPage(new { period = created.Id });
        }, ShowAgain, field: "NewPeriod.Name");
    }

    private async Task LoadAsync(Guid? period)
    {
        Periods = await db.AllocationPeriods.AsNoTracking().OrderByDescending(p => p.StartDate).ToListAsync();
        Period = Periods.FirstOrDefault(p => p.Id == period) ?? Periods.FirstOrDefault();
        Rows = Period is null ? [] : await planning.RowsAsync(Period.Id);
    }
}

using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Capacity;

/// <summary>Sets one cluster's capacity in one period; never below what is already granted.</summary>
public sealed class EditModel(PortalDbContext db, CapacityPlanning planning) : PageModel
{
    public sealed class InputModel
    {
        [Required(ErrorMessage = "Enter the capacity.")]
        [Range(typeof(decimal), "0", "1000000000", ErrorMessage = "Capacity is 0 to 1,000,000,000 hours.")]
        [Display(Name = "Capacity")]
        public decimal? CapacityHours { get; set; }

        [Required(ErrorMessage = "Enter the factor (1.0 for none).")]
        [Range(typeof(decimal), "1.0", "3.0", ErrorMessage = "The factor is between 1.0 and 3.0.")]
        [Display(Name = "Oversubscription factor")]
        public decimal? Factor { get; set; } = 1.0m;

        [Required(ErrorMessage = "Enter the reserve (0 for none).")]
        [Range(typeof(decimal), "0", "1000000000", ErrorMessage = "The reserve cannot be negative.")]
        [Display(Name = "Reserve")]
        public decimal? ReserveHours { get; set; } = 0m;
    }

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public string ClusterName { get; private set; } = "";

    public AllocationPeriod Period { get; private set; } = null!;

    public decimal Committed { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid cluster, Guid period)
    {
        if (!await LoadAsync(cluster, period))
        {
            return NotFound();
        }
        var row = await db.ClusterCapacities.AsNoTracking().SingleOrDefaultAsync(c => c.ClusterId == cluster && c.PeriodId == period);
        if (row is not null)
        {
            Input = new InputModel { CapacityHours = row.CapacityHours, Factor = row.OversubscriptionFactor, ReserveHours = row.ReserveHours };
        }
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(Guid cluster, Guid period)
    {
        if (!await LoadAsync(cluster, period))
        {
            return NotFound();
        }
        if (!ModelState.IsValid)
        {
            return Page();
        }
        return await this.RunAsync(async () =>
        {
            await planning.SetAsync(cluster, period, Input.CapacityHours!.Value, Input.Factor!.Value, Input.ReserveHours!.Value, User.GetUserId());
            TempData.Status($"Capacity of {ClusterName} in {Period.Name} saved.");
            return RedirectToPage("Index", new { period });
        });
    }

    private async Task<bool> LoadAsync(Guid cluster, Guid period)
    {
        var name = await db.Clusters.Where(c => c.Id == cluster).Select(c => c.Name).SingleOrDefaultAsync();
        var p = await db.AllocationPeriods.AsNoTracking().SingleOrDefaultAsync(x => x.Id == period);
        if (name is null || p is null)
        {
            return false;
        }
        ClusterName = name;
        Period = p;
        Committed = await db.ClusterCapacities.Where(c => c.ClusterId == cluster && c.PeriodId == period).Select(c => c.CommittedHours).SingleOrDefaultAsync();
        return true;
    }
}

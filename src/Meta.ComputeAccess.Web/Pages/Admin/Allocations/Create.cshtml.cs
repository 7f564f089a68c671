using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Allocations;

/// <summary>A discretionary allocation: the same <see cref="AllocationService.CreateAsync"/> an accepted award will call.</summary>
public sealed class CreateModel(PortalDbContext db, AllocationService allocations) : PageModel
{
    public sealed class InputModel
    {
        [Required(ErrorMessage = "Enter the PI's email address.")]
        [EmailAddress]
        [Display(Name = "PI email")]
        public string PiEmail { get; set; } = "";

        [Required(ErrorMessage = "Enter the project title.")]
        [StringLength(300)]
        [Display(Name = "Project title")]
        public string ProjectTitle { get; set; } = "";

        [Required(ErrorMessage = "Choose a period.")]
        [Display(Name = "Period")]
        public Guid? PeriodId { get; set; }

        [Required(ErrorMessage = "Enter the start date.")]
        [Display(Name = "Start date")]
        public DateOnly? StartDate { get; set; }

        [Required(ErrorMessage = "Enter the end date.")]
        [Display(Name = "End date")]
        public DateOnly? EndDate { get; set; }

        [Display(Name = "Slurm account (leave empty to generate)")]
        [RegularExpression("^[a-z][a-z0-9_-]{1,29}$", ErrorMessage = "2 to 30 lowercase letters, digits, '-' or '_', starting with a letter.")]
        public string? SlurmAccount { get; set; }

        [Display(Name = "Tranches (% each, e.g. 50, 50; empty: all at once)")]
        [RegularExpression(@"^\s*\d{1,3}(\s*,\s*\d{1,3}){0,9}\s*$", ErrorMessage = "Whole percentages separated by commas, such as 50, 50.")]
        public string? Tranches { get; set; }

        /// <summary>GPU-hours per cluster id.</summary>
        public Dictionary<Guid, decimal?> Hours { get; set; } = [];
    }

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public IReadOnlyList<(Guid Id, string Name)> Periods { get; private set; } = [];

    public IReadOnlyList<(Guid Id, string Name)> Clusters { get; private set; } = [];

    public async Task OnGetAsync() => await LoadAsync();

    public async Task<IActionResult> OnPostAsync()
    {
        await LoadAsync();
        var email = (Input.PiEmail ?? "").Trim().ToUpperInvariant();
        var pi = await db.Users.Where(u => u.NormalizedEmail == email).Select(u => (Guid?)u.Id).SingleOrDefaultAsync();
        if (pi is null && !string.IsNullOrWhiteSpace(Input.PiEmail))
        {
            ModelState.AddModelError("Input.PiEmail", "No portal user has this email; the PI must register first.");
        }
        if (Input.Hours.Values.Any(h => h < 0))
        {
            ModelState.AddModelError("Input.Hours", "Hours cannot be negative.");
        }
        if (!ModelState.IsValid)
        {
            return Page();
        }
        return await this.RunAsync(async () =>
        {
            var allocation = await allocations.CreateAsync(new NewAllocation(
                Input.PeriodId!.Value, pi!.Value, Input.ProjectTitle, Input.StartDate!.Value, Input.EndDate!.Value,
                Input.Hours.Where(h => h.Value is > 0).ToDictionary(h => h.Key, h => h.Value!.Value),
                SlurmAccount: string.IsNullOrWhiteSpace(Input.SlurmAccount) ? null : Input.SlurmAccount,
                Tranches: string.IsNullOrWhiteSpace(Input.Tranches) ? null
                    : [.. Input.Tranches.Split(',', StringSplitOptions.TrimEntries).Select(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture))]),
                User.GetUserId(), HttpContext.RequestAborted);
            TempData.Status($"Allocation {allocation.SlurmAccount} created.");
            return RedirectToPage("Details", new { id = allocation.Id });
        });
    }

    private async Task LoadAsync()
    {
        Periods = (await db.AllocationPeriods.AsNoTracking().OrderByDescending(p => p.StartDate).Select(p => new { p.Id, p.Name }).ToListAsync()).Select(p => (p.Id, p.Name)).ToList();
        Clusters = (await db.Clusters.AsNoTracking().OrderBy(c => c.Name).Select(c => new { c.Id, c.Name }).ToListAsync()).Select(c => (c.Id, c.Name)).ToList();
    }
}

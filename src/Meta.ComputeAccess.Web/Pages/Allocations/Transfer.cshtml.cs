using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Allocations;

/// <summary><c>/Allocations/{id}/Transfer</c>: the PI asks to move hours from one cluster to another (the admin approves).</summary>
public sealed class TransferModel(PortalDbContext db, AllocationService allocations, TimeProvider clock) : PageModel
{
    public sealed class InputModel
    {
        [Display(Name = "From")]
        [Required(ErrorMessage = "Choose the cluster to move hours from.")]
        public Guid? FromClusterId { get; set; }

        [Display(Name = "To")]
        [Required(ErrorMessage = "Choose the cluster to move hours to.")]
        public Guid? ToClusterId { get; set; }

        [Display(Name = "Hours (program unit)")]
        [Required(ErrorMessage = "Enter the hours to move.")]
        [Range(typeof(decimal), "0.000001", "10000000", ErrorMessage = "Enter a positive number of hours.")]
        public decimal? Hours { get; set; }

        [Required(ErrorMessage = "Explain why the hours should move.")]
        [StringLength(4000, MinimumLength = 20, ErrorMessage = "Write 20 to 4,000 characters.")]
        public string Justification { get; set; } = "";
    }

    /// <summary>A cluster the hours can move between, with its rate in force (native hours per unit).</summary>
    public sealed record ClusterChoice(Guid Id, string Name, decimal? Remaining, ChargePolicy Rates);

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public Meta.ComputeAccess.Allocations.Allocation Allocation { get; private set; } = null!;

    public IReadOnlyList<ClusterChoice> Clusters { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(Guid id) => await LoadAsync(id) ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync(Guid id)
    {
        if (!await LoadAsync(id))
        {
            return NotFound();
        }
        if (!ModelState.IsValid)
        {
            return Page();
        }
        return await this.RunAsync(async () =>
        {
            await allocations.RequestTransferAsync(id, Input.FromClusterId!.Value, Input.ToClusterId!.Value, Input.Hours!.Value, Input.Justification, User.GetUserId(), HttpContext.RequestAborted);
            TempData.Status("Your transfer request was sent to the program; you will get an email when it is decided.");
            return Redirect($"/Allocations/{id}");
        }, fieldPrefix: "Input");
    }

    private async Task<bool> LoadAsync(Guid id)
    {
        var viewer = await this.ViewerAsync();
        var allocation = await db.Allocations.VisibleTo(viewer).AsNoTracking().Include(a => a.Quotas).SingleOrDefaultAsync(a => a.Id == id);
        if (allocation is null || !allocation.MayRequestSupplement(viewer.UserId))
        {
            return false;
        }
        Allocation = allocation;
        // Any cluster that is not retired: hours may move to a cluster the allocation does not have yet.
        var clusters = await db.Clusters.AsNoTracking().Where(c => c.Status != ClusterStatus.Retired).OrderBy(c => c.Name).Select(c => new { c.Id, c.Name }).ToListAsync();
        var rates = await ChargePolicies.InForceAsync(db, [.. clusters.Select(c => c.Id)], clock.GetUtcNow(), HttpContext.RequestAborted);
        Clusters = [.. clusters.Select(c => new ClusterChoice(c.Id, c.Name, allocation.Quotas.SingleOrDefault(q => q.ClusterId == c.Id)?.RemainingHours, rates[c.Id]))];
        return true;
    }
}

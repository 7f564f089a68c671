using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Clusters;

/// <summary><c>/Admin/Clusters/Rates/{slug}</c>: a cluster's charge policy versions, and a form to add the next one.</summary>
public sealed class RatesModel(PortalDbContext db, ChargePolicies policies, TimeProvider clock) : PageModel
{
    public sealed class InputModel
    {
        [Display(Name = "Takes effect (UTC)")]
        [Required(ErrorMessage = "Say when the rates take effect.")]
        public DateTime? EffectiveFrom { get; set; }

        [Display(Name = "Rates, one tres=rate per line")]
        [Required(ErrorMessage = "List at least one rate, for example gres/gpu=1.")]
        [StringLength(4000)]
        public string Rates { get; set; } = "";

        [Display(Name = "Partition multipliers, one partition=multiplier per line")]
        [StringLength(8000)]
        public string? Multipliers { get; set; }

        [Display(Name = "Why the rates change")]
        [Required(ErrorMessage = "Say why the rates change.")]
        [StringLength(500)]
        public string Note { get; set; } = "";
    }

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public Cluster Cluster { get; private set; } = null!;

    public IReadOnlyList<ChargePolicy> Versions { get; private set; } = [];

    /// <summary>The version in force now (the default rate 1 when none is set).</summary>
    public ChargePolicy InForce { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(string slug)
    {
        if (!await LoadAsync(slug))
        {
            return NotFound();
        }
        Input.EffectiveFrom = clock.GetUtcNow().UtcDateTime.Date.AddDays(1);
        Input.Rates = InForce.RatesText;
        Input.Multipliers = InForce.MultipliersText;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string slug)
    {
        if (!await LoadAsync(slug))
        {
            return NotFound();
        }
        if (!ModelState.IsValid)
        {
            return Page();
        }
        return await this.RunAsync(async () =>
        {
            var effective = new DateTimeOffset(DateTime.SpecifyKind(Input.EffectiveFrom!.Value, DateTimeKind.Utc));
            var policy = await policies.AddVersionAsync(Cluster.Id, effective, Input.Rates, Input.Multipliers, Input.Note, User.GetUserId(), HttpContext.RequestAborted);
            TempData.Status($"Version {policy.Version} of the rates of {Cluster.Name} takes effect {policy.EffectiveFrom:yyyy-MM-dd HH:mm} UTC.");
            return RedirectToPage(new { slug });
        }, fieldPrefix: "Input");
    }

    private async Task<bool> LoadAsync(string slug)
    {
        if (await db.Clusters.AsNoTracking().SingleOrDefaultAsync(c => c.Slug == slug, HttpContext.RequestAborted) is not { } cluster)
        {
            return false;
        }
        Cluster = cluster;
        Versions = await db.ChargePolicies.AsNoTracking().Where(p => p.ClusterId == cluster.Id).OrderByDescending(p => p.Version).ToListAsync(HttpContext.RequestAborted);
        InForce = new ChargePolicySet(cluster.Id, Versions).At(clock.GetUtcNow());
        return true;
    }
}

using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Meta.ComputeAccess.Web.Pages.Shared;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Admin.Proposals;

/// <summary>Screens one submitted proposal: eligibility and technical feasibility, with optional hour caps per cluster.</summary>
public sealed class ScreenModel(PortalDbContext db, ScreeningService screening) : PageModel
{
    public ProposalView View { get; private set; } = null!;

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public sealed class InputModel
    {
        /// <summary>No answer until the admin gives one: screening is a judgement, never a default.</summary>
        [Display(Name = "Eligible")]
        [Required(ErrorMessage = "Say whether the proposal is eligible.")]
        public bool? Eligible { get; set; }

        [Display(Name = "Reason (shown to the applicants if not eligible)")]
        [StringLength(2000)]
        public string EligibilityReason { get; set; } = "";

        [Display(Name = "Technical check")]
        [Required(ErrorMessage = "Choose the outcome of the technical check.")]
        public TechnicalCheck? Technical { get; set; }

        [Display(Name = "Technical note")]
        [StringLength(2000)]
        public string TechnicalNote { get; set; } = "";

        public List<ClusterHoursInput> Caps { get; set; } = [];
    }

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        Input.Caps = [.. View.Requests.Where(r => r.Requested > 0).Select(r => new ClusterHoursInput { ClusterId = r.ClusterId })];
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(Guid id, CancellationToken cancellationToken)
    {
        // Only what the action needs: that the proposal is waiting for screening, and where to go afterwards.
        var slug = await db.CallSlugAsync(id, ProposalStatusSets.AwaitingScreening, cancellationToken);
        if (slug is null)
        {
            return NotFound();
        }
        if (Input.Eligible == false && string.IsNullOrWhiteSpace(Input.EligibilityReason))
        {
            ModelState.AddModelError("Input.EligibilityReason", "Give the reason the proposal is not eligible: the applicants will read it.");
        }
        if (Input.Technical is TechnicalCheck.Conditional or TechnicalCheck.Fail && string.IsNullOrWhiteSpace(Input.TechnicalNote))
        {
            ModelState.AddModelError("Input.TechnicalNote", "Explain a conditional or failed technical check in the note.");
        }
        if (!ModelState.IsValid)
        {
            return await ReloadAsync(id, cancellationToken);
        }
        var caps = Input.Caps.Where(c => c.Hours is not null).GroupBy(c => c.ClusterId).ToDictionary(g => g.Key, g => g.First().Hours!.Value);
        return await this.RunAsync(
            async () =>
            {
                var result = await screening.ScreenAsync(id, new ScreeningInput(Input.Eligible!.Value, Input.EligibilityReason, Input.Technical!.Value, Input.TechnicalNote, caps), User.GetUserId(), cancellationToken);
                TempData.Status(result.Passed ? "Screening passed: the proposal is in review." : "Screening failed: the proposal is declined and the team was told why.");
                return RedirectToPage("/Admin/Calls/Screening", new { slug });
            },
            () => ReloadAsync(id, cancellationToken));
    }

    private async Task<IActionResult> ReloadAsync(Guid id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        var waiting = db.Proposals.Where(p => ProposalStatusSets.AwaitingScreening.Contains(p.Status));
        if (await ProposalView.LoadAsync(db, waiting, id, cancellationToken) is not { } view)
        {
            return false;
        }
        View = view;
        return true;
    }
}

using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Admin.Appeals;

/// <summary>One appeal, by its proposal: the team's reason, and the admin's decision with a reason (once). 404 when not appealed.</summary>
public sealed class DecideModel(DecisionAppeals appeals) : PageModel
{
    public AppealView Appeal { get; private set; } = null!;

    [BindProperty]
    public AppealOutcome? Outcome { get; set; }

    [BindProperty]
    public string Reason { get; set; } = "";

    public Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken) => ShowAsync(id, cancellationToken);

    // Refusals are shown in the summary: once the thing is done, its form is gone.
    public Task<IActionResult> OnPostAsync(Guid id, CancellationToken cancellationToken) =>
        this.RunAsync(
            async () =>
            {
                if (Outcome is not { } outcome)
                {
                    throw new DomainException("Choose whether to uphold or dismiss the appeal.", new Dictionary<string, string> { [nameof(Outcome)] = "Uphold or dismiss." });
                }
                await appeals.DecideAsync(id, outcome, Reason, User.GetUserId(), cancellationToken);
                TempData.Status($"Appeal {(outcome == AppealOutcome.Upheld ? "upheld" : "dismissed")}; the team was told.");
                return RedirectToPage(new { id });
            },
            () => ShowAsync(id, cancellationToken));

    private async Task<IActionResult> ShowAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await appeals.FindAsync(id, cancellationToken) is not { } appeal)
        {
            return NotFound();
        }
        Appeal = appeal;
        return Page();
    }
}

using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>
/// The team's appeal of its released decision: filed once with a reason, then shown with the admins' outcome and reason.
/// Anyone not on the team gets 404.
/// </summary>
public sealed class AppealModel(PortalDbContext db, DecisionAppeals appeals) : PageModel
{
    public Guid ProposalId { get; private set; }

    public string Title { get; private set; } = "";

    public ProposalDecision? Decision { get; private set; }

    public AppealView? Appeal { get; private set; }

    /// <summary>Why the team cannot appeal now; empty when it can.</summary>
    public string WhyNot { get; private set; } = "";

    [BindProperty]
    public string Reason { get; set; } = "";

    public Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken) => ShowAsync(id, cancellationToken);

    // Refusals are shown in the summary: once the thing is done, its form is gone.
    public Task<IActionResult> OnPostAsync(Guid id, CancellationToken cancellationToken) =>
        this.RunAsync(
            async () =>
            {
                if (!await appeals.FileAsync(id, User.GetUserId(), Reason, cancellationToken))
                {
                    return NotFound();
                }
                TempData.Status("Appeal filed: the program team was told and will decide it with a reason.");
                return RedirectToPage(new { id });
            },
            () => ShowAsync(id, cancellationToken));

    private async Task<IActionResult> ShowAsync(Guid id, CancellationToken cancellationToken)
    {
        var me = User.GetUserId();
        var proposal = await db.Proposals.VisibleTo(Viewer.Applicant(me)).AsNoTracking().SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (proposal is null)
        {
            return NotFound();
        }
        ProposalId = proposal.Id;
        Title = proposal.Title;
        Decision = proposal.DecisionReleasedAt is null ? null : proposal.Decision;
        Appeal = await appeals.FindForTeamAsync(id, me, cancellationToken);
        WhyNot = DecisionAppeals.WhyNotAppealable(proposal, Appeal is not null);
        return Page();
    }
}

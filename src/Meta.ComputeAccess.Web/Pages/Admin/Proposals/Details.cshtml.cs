using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Safety;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Pages.Shared;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Proposals;

/// <summary>The program's view of a submitted proposal, with its full timeline and attachments.</summary>
public sealed class DetailsModel(PortalDbContext db, SafetyTrack safety) : PageModel
{
    public ProposalView View { get; private set; } = null!;

    /// <summary>Where the proposal stands in the safety track; null when it is not in it.</summary>
    public SafetyState? Safety { get; private set; }

    /// <summary>What the PI accepted with the award (award terms, safety conditions), as worded then.</summary>
    public IReadOnlyList<(string Title, DateTimeOffset At)> AcceptedConditions { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await ProposalView.LoadAsync(db, db.Proposals.VisibleTo(await this.ViewerAsync()), id, cancellationToken) is not { } view)
        {
            return NotFound();
        }
        View = view;
        Safety = (await safety.StatesAsync([id], cancellationToken)).GetValueOrDefault(id);
        AcceptedConditions = [.. (await db.AwardConditionAcceptances.AsNoTracking().Where(a => a.ProposalId == id).OrderBy(a => a.Id)
            .Select(a => new { a.Title, a.AcceptedAt }).ToListAsync(cancellationToken)).Select(a => (a.Title, a.AcceptedAt))];
        return Page();
    }
}

using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Pages.Shared;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Admin.Proposals;

/// <summary>The program's view of a submitted proposal, with its full timeline and attachments.</summary>
public sealed class DetailsModel(PortalDbContext db) : PageModel
{
    public ProposalView View { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await ProposalView.LoadAsync(db, db.Proposals.VisibleTo(await this.ViewerAsync()), id, cancellationToken) is not { } view)
        {
            return NotFound();
        }
        View = view;
        return Page();
    }
}

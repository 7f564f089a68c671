using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Pages.Proposals;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Admin.Proposals;

/// <summary>The program's view of a submitted proposal, with its full timeline and attachments.</summary>
public sealed class DetailsModel(PortalDbContext db) : PageModel
{
    public ProposalView View { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        var submitted = db.Proposals.Where(p => p.Status != Meta.ComputeAccess.Proposals.ProposalStatus.Draft);
        if (await ProposalView.LoadAsync(db, submitted, id, cancellationToken) is not { } view)
        {
            return NotFound();
        }
        View = view;
        return Page();
    }
}

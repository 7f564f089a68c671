using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Reviews;

/// <summary>Attachments of a proposal assigned to the reviewer (and not conflicted); 404 otherwise.</summary>
public sealed class AttachmentModel(PortalDbContext db) : PageModel
{
    public async Task<IActionResult> OnGetAsync(Guid id, Guid attachmentId, CancellationToken cancellationToken)
    {
        var me = User.GetUserId();
        var file = await db.ProposalAttachments.AsNoTracking()
            .Where(a => a.Id == attachmentId && a.ProposalId == id && db.Proposals.AssignedTo(me).Any(p => p.Id == id))
            .Select(a => new { a.FileName, a.Content })
            .SingleOrDefaultAsync(cancellationToken);
        return file is null ? NotFound() : AttachmentFile.Download(this, file.FileName, file.Content);
    }
}

using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>Downloads an attachment for a team member; anyone else gets 404 whatever the ids.</summary>
public sealed class AttachmentModel(PortalDbContext db) : PageModel
{
    public async Task<IActionResult> OnGetAsync(Guid id, Guid attachmentId, CancellationToken cancellationToken)
    {
        var me = User.GetUserId();
        var file = await db.ProposalAttachments.AsNoTracking()
            .Where(a => a.Id == attachmentId && a.ProposalId == id && db.Proposals.VisibleToMember(me).Any(p => p.Id == id))
            .Select(a => new { a.FileName, a.Content })
            .SingleOrDefaultAsync(cancellationToken);
        return file is null ? NotFound() : AttachmentFile.Download(this, file.FileName, file.Content);
    }
}

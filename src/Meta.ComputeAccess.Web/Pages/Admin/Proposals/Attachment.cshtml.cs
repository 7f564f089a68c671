using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Proposals;

/// <summary>Admins download attachments of submitted proposals.</summary>
public sealed class AttachmentModel(PortalDbContext db) : PageModel
{
    public async Task<IActionResult> OnGetAsync(Guid id, Guid attachmentId, CancellationToken cancellationToken)
    {
        var file = await db.ProposalAttachments.AsNoTracking()
            .Where(a => a.Id == attachmentId && a.ProposalId == id && db.Proposals.Any(p => p.Id == id && p.Status != ProposalStatus.Draft))
            .Select(a => new { a.FileName, a.Content })
            .SingleOrDefaultAsync(cancellationToken);
        return file is null ? NotFound() : AttachmentFile.Download(this, file.FileName, file.Content);
    }
}

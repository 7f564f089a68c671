using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Admin.Proposals;

/// <summary>Admins download attachments of submitted proposals (the admins' proposal scope).</summary>
public sealed class AttachmentModel(PortalDbContext db, ProposalAttachments attachments) : PageModel
{
    public async Task<IActionResult> OnGetAsync(Guid id, Guid attachmentId, CancellationToken cancellationToken) =>
        AttachmentFile.Download(this, await attachments.FindForDownloadAsync(db.Proposals.VisibleTo(await this.ViewerAsync()), id, attachmentId, cancellationToken));
}

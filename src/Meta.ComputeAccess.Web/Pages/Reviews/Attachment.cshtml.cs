using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Reviews;

/// <summary>Attachments of a proposal assigned to the reviewer (and not conflicted: the review module's scope); 404 otherwise.</summary>
public sealed class AttachmentModel(PortalDbContext db, ProposalAttachments attachments) : PageModel
{
    public async Task<IActionResult> OnGetAsync(Guid id, Guid attachmentId, CancellationToken cancellationToken) =>
        AttachmentFile.Download(this, await attachments.FindForDownloadAsync(db.Proposals.AssignedTo(User.GetUserId()), id, attachmentId, cancellationToken));
}

using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Pages.Shared;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>Up to three PDFs per proposal, 10 MB each, checked by content and stored in PostgreSQL.</summary>
[RequestSizeLimit(ProposalAttachment.MaxBytes + 1024 * 1024)]
[RequestFormLimits(MultipartBodyLengthLimit = ProposalAttachment.MaxBytes + 1024 * 1024)]
public sealed class AttachmentsModel(PortalDbContext db, ProposalAttachments attachments) : PageModel
{
    private const string FileField = "file";

    public ProposalView View { get; private set; } = null!;

    public Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken) => ShowAsync(id, cancellationToken);

    public async Task<IActionResult> OnPostUploadAsync(Guid id, IFormFile? file, CancellationToken cancellationToken)
    {
        if (file is null || file.Length == 0)
        {
            ModelState.AddModelError(FileField, "Choose a PDF file to upload.");
            return await ShowAsync(id, cancellationToken);
        }
        return await this.RunAsync(async () =>
        {
            await using var content = file.OpenReadStream();
            if (!await attachments.UploadAsync(id, User.GetUserId(), file.FileName, file.Length, content, cancellationToken))
            {
                return NotFound();
            }
            TempData.Status("Attachment added.");
            return RedirectToPage(new { id });
        }, () => ShowAsync(id, cancellationToken), field: FileField);
    }

    public Task<IActionResult> OnPostDeleteAsync(Guid id, Guid attachmentId, CancellationToken cancellationToken) =>
        this.RunButtonAsync(() => attachments.RemoveAsync(id, User.GetUserId(), attachmentId, cancellationToken), "Attachment removed.", new { id });

    private async Task<IActionResult> ShowAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await ProposalView.LoadAsync(db, db.Proposals.VisibleTo(Viewer.Applicant(User.GetUserId())), id, cancellationToken) is not { } view)
        {
            return NotFound();
        }
        View = view;
        return Page();
    }
}

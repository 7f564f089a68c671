using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>Up to three PDFs per proposal, 10 MB each, checked by content and stored in PostgreSQL.</summary>
[RequestSizeLimit(ProposalAttachment.MaxBytes + 1024 * 1024)]
[RequestFormLimits(MultipartBodyLengthLimit = ProposalAttachment.MaxBytes + 1024 * 1024)]
public sealed class AttachmentsModel(PortalDbContext db, TimeProvider clock) : PageModel
{
    public ProposalView View { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    public async Task<IActionResult> OnPostUploadAsync(Guid id, IFormFile? file, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        if (!View.Proposal.IsEditable)
        {
            ModelState.AddModelError("file", "The proposal is submitted: attachments can no longer change.");
            return Page();
        }
        if (file is null || file.Length == 0)
        {
            ModelState.AddModelError("file", "Choose a PDF file to upload.");
            return Page();
        }
        if (file.Length > ProposalAttachment.MaxBytes)
        {
            ModelState.AddModelError("file", "The file is larger than 10 MB.");
            return Page();
        }
        if (View.Attachments.Count >= Proposal.MaxAttachments)
        {
            ModelState.AddModelError("file", $"A proposal has at most {Proposal.MaxAttachments} attachments; remove one first.");
            return Page();
        }
        using var buffer = new MemoryStream((int)file.Length);
        await file.CopyToAsync(buffer, cancellationToken);
        try
        {
            db.ProposalAttachments.Add(ProposalAttachment.Create(id, file.FileName, buffer.ToArray(), User.GetUserId(), clock.GetUtcNow()));
        }
        catch (DomainException ex)
        {
            ModelState.AddModelError("file", ex.Message);
            return Page();
        }
        await db.SaveChangesAsync(cancellationToken);
        TempData.Status("Attachment added.");
        return RedirectToPage(new { id });
    }

    public async Task<IActionResult> OnPostDeleteAsync(Guid id, Guid attachmentId, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        if (!View.Proposal.IsEditable)
        {
            TempData.Error("The proposal is submitted: attachments can no longer change.");
            return RedirectToPage(new { id });
        }
        await db.ProposalAttachments.Where(a => a.Id == attachmentId && a.ProposalId == id).ExecuteDeleteAsync(cancellationToken);
        TempData.Status("Attachment removed.");
        return RedirectToPage(new { id });
    }

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await ProposalView.LoadAsync(db, db.Proposals.VisibleToMember(User.GetUserId()), id, cancellationToken) is not { } view)
        {
            return false;
        }
        View = view;
        return true;
    }
}

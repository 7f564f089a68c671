using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Proposals;

/// <summary>A file to send: the attachment's safe name and its bytes.</summary>
public sealed record AttachmentDownload(string FileName, byte[] Content);

/// <summary>
/// A draft's PDFs: the team adds them (at most <see cref="Proposal.MaxAttachments"/>, checked by content) and removes
/// them until the proposal is submitted; every download, whoever asks, goes through <see cref="FindForDownloadAsync"/>.
/// </summary>
public sealed class ProposalAttachments(PortalDbContext db, TimeProvider clock)
{
    /// <summary>
    /// Adds the PDF in <paramref name="content"/> (<paramref name="length"/> bytes) to the draft; false when
    /// <paramref name="actor"/> is not on its team. Refused, with nothing read, when the draft is no longer editable,
    /// already has its attachments, or the file is too large; refused after reading when it is not a complete PDF.
    /// </summary>
    public async Task<bool> UploadAsync(Guid proposalId, Guid actor, string fileName, long length, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var draft = await TeamProposals(actor)
            .Where(p => p.Id == proposalId)
            .Select(p => new { Proposal = p, Attachments = db.ProposalAttachments.Count(a => a.ProposalId == p.Id) })
            .SingleOrDefaultAsync(cancellationToken);
        if (draft is null)
        {
            return false;
        }
        EnsureEditable(draft.Proposal);
        if (length > ProposalAttachment.MaxBytes)
        {
            throw new DomainException("The file is larger than 10 MB.");
        }
        if (draft.Attachments >= Proposal.MaxAttachments)
        {
            throw new DomainException($"A proposal has at most {Proposal.MaxAttachments} attachments; remove one first.");
        }
        using var buffer = new MemoryStream((int)length);
        await content.CopyToAsync(buffer, cancellationToken);
        db.ProposalAttachments.Add(ProposalAttachment.Create(proposalId, fileName, buffer.ToArray(), actor, clock.GetUtcNow()));
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    /// <summary>Removes an attachment from the draft; false when <paramref name="actor"/> is not on its team.</summary>
    public async Task<bool> RemoveAsync(Guid proposalId, Guid actor, Guid attachmentId, CancellationToken cancellationToken = default)
    {
        var proposal = await TeamProposals(actor).SingleOrDefaultAsync(p => p.Id == proposalId, cancellationToken);
        if (proposal is null)
        {
            return false;
        }
        EnsureEditable(proposal);
        // One statement, and the bytes are never loaded.
        await db.ProposalAttachments.Where(a => a.Id == attachmentId && a.ProposalId == proposalId).ExecuteDeleteAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// The attachment <paramref name="attachmentId"/> of proposal <paramref name="proposalId"/>, if that proposal is in
    /// <paramref name="scope"/>: the caller's visibility (<c>db.Proposals.VisibleTo(viewer)</c>, or the review module's
    /// scope for reviewers). Null, like a missing attachment, otherwise.
    /// </summary>
    public Task<AttachmentDownload?> FindForDownloadAsync(IQueryable<Proposal> scope, Guid proposalId, Guid attachmentId, CancellationToken cancellationToken = default) =>
        db.ProposalAttachments.AsNoTracking()
            .Where(a => a.Id == attachmentId && a.ProposalId == proposalId && scope.Any(p => p.Id == proposalId))
            .Select(a => new AttachmentDownload(a.FileName, a.Content))
            .SingleOrDefaultAsync(cancellationToken);

    private IQueryable<Proposal> TeamProposals(Guid actor) => db.Proposals.AsNoTracking().VisibleTo(Viewer.Applicant(actor));

    private static void EnsureEditable(Proposal proposal)
    {
        if (!proposal.IsEditable)
        {
            throw new DomainException("The proposal is submitted: attachments can no longer change.");
        }
    }
}

using System.Globalization;
using System.Text;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Privacy;

/// <summary>
/// Daily: removes drafts nobody saved for <see cref="PrivacyOptions.DraftRetentionDays"/> and the attachments of
/// proposals in archived calls closed more than <see cref="PrivacyOptions.ArchivedAttachmentRetentionDays"/> ago, at most
/// <see cref="Batch"/> of each per run, and says what it removed: a <see cref="RetentionRun"/> (Admin → Retention), an
/// audit entry and a log line. One transaction; running it twice removes nothing more.
/// </summary>
public sealed partial class RetentionJob(
    PortalDbContext db, DraftRemoval drafts, AuditLog audit, TimeProvider clock, IOptions<PrivacyOptions> options, ILogger<RetentionJob> logger)
{
    public const int Batch = 500;

    public async Task<RetentionRun> RunAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var draftCutoff = now.AddDays(-options.Value.DraftRetentionDays);
        var callCutoff = now.AddDays(-options.Value.ArchivedAttachmentRetentionDays);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var staleDrafts = await db.Proposals.AsNoTracking()
            .Where(p => p.Status == ProposalStatus.Draft && p.UpdatedAt < draftCutoff)
            .OrderBy(p => p.UpdatedAt).Select(p => p.Id).Take(Batch).ToListAsync(cancellationToken);
        var removedDrafts = await drafts.RemoveAsync(staleDrafts, cancellationToken);

        var oldAttachments = db.ProposalAttachments.Where(a => db.Proposals.Any(p => p.Id == a.ProposalId
            && db.Calls.Any(c => c.Id == p.CallId && c.Status == CallStatus.Archived && (c.ClosedAt ?? c.CreatedAt) < callCutoff)));
        var attachments = await oldAttachments.AsNoTracking().OrderBy(a => a.UploadedAt)
            .Select(a => new { a.Id, a.ProposalId, a.SizeBytes }).Take(Batch).ToListAsync(cancellationToken);
        var attachmentIds = attachments.Select(a => a.Id).ToList();
        await db.ProposalAttachments.Where(a => attachmentIds.Contains(a.Id)).ExecuteDeleteAsync(cancellationToken);

        var detail = new StringBuilder();
        foreach (var d in removedDrafts)
        {
            detail.AppendLine(CultureInfo.InvariantCulture, $"draft {d.Id} with {d.Attachments} attachment(s)");
        }
        foreach (var a in attachments)
        {
            detail.AppendLine(CultureInfo.InvariantCulture, $"attachment {a.Id} of proposal {a.ProposalId} ({a.SizeBytes} bytes)");
        }
        var run = RetentionRun.Create(now, draftCutoff, callCutoff, removedDrafts.Count, attachments.Count, attachments.Sum(a => a.SizeBytes), detail.ToString());
        db.Add(run);
        audit.Record(null, "retention.removed", "retention", now.ToString("O", CultureInfo.InvariantCulture),
            $"Retention removed {removedDrafts.Count} draft(s) untouched for {options.Value.DraftRetentionDays} days and {attachments.Count} attachment(s) of archived calls closed over {options.Value.ArchivedAttachmentRetentionDays} days ago");
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        LogRemoved(logger, removedDrafts.Count, attachments.Count);
        return run;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention removed {Drafts} drafts and {Attachments} attachments")]
    private static partial void LogRemoved(ILogger logger, int drafts, int attachments);
}

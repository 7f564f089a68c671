using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Privacy;

/// <summary>
/// Removes draft proposals with everything that hangs on them (team, requests, attachments, the "Draft started" history
/// line). A draft was only ever seen by its team, so nothing of the program's record goes with it. Runs in the caller's
/// transaction; a proposal submitted meanwhile is left alone (the rows are locked and the status checked again).
/// </summary>
public sealed class DraftRemoval(PortalDbContext db)
{
    public sealed record RemovedDraft(Guid Id, string Title, int Attachments);

    public async Task<IReadOnlyList<RemovedDraft>> RemoveAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return [];
        }
        var draft = nameof(ProposalStatus.Draft);
        var drafts = await db.Database.SqlQuery<RemovedDraft>($"""
            SELECT p.id AS "Id", p.title AS "Title", (SELECT count(*)::int FROM proposal_attachments a WHERE a.proposal_id = p.id) AS "Attachments"
            FROM proposals p WHERE p.id = ANY({ids.ToArray()}) AND p.status = {draft}
            ORDER BY p.id FOR UPDATE OF p
            """).ToListAsync(cancellationToken);
        if (drafts.Count == 0)
        {
            return [];
        }
        var removing = drafts.Select(d => d.Id).ToArray();
        await db.Database.ExecuteSqlRawAsync(PrivacySql.Declare(PrivacySql.RemoveDrafts), cancellationToken);
        // The history goes first, while its proposal is still a draft: the trigger allows exactly that.
        await db.Database.ExecuteSqlAsync($"DELETE FROM proposal_history WHERE proposal_id = ANY({removing})", cancellationToken);
        await db.Database.ExecuteSqlAsync($"DELETE FROM proposals WHERE id = ANY({removing})", cancellationToken);
        return drafts;
    }
}

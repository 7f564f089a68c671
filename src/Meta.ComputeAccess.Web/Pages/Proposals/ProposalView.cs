using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>Everything a read-only proposal page shows, loaded with a few projected queries (attachment bytes never).</summary>
public sealed record ProposalView(
    Proposal Proposal,
    Call Call,
    IReadOnlyList<ProposalView.RequestLine> Requests,
    IReadOnlyList<ProposalView.MemberLine> Team,
    IReadOnlyList<ProposalView.HistoryLine> Timeline,
    IReadOnlyList<ProposalView.AttachmentLine> Attachments,
    string PiInstitution)
{
    public sealed record RequestLine(Guid ClusterId, string Cluster, decimal Requested, decimal MinimumViable, decimal MaxAllowed);

    /// <param name="InstitutionVerified">The institution came from the member's identity provider, not from typing.</param>
    /// <param name="OrcidIdVerified">The ORCID iD came from a sign-in through ORCID.</param>
    /// <param name="Affiliations">eduPersonScopedAffiliation values from the member's identity provider.</param>
    public sealed record MemberLine(Guid Id, Guid? UserId, string Name, string Email, string? Institution, MemberRole Role, bool Pending,
        bool InstitutionVerified = false, string? OrcidId = null, bool OrcidIdVerified = false, IReadOnlyList<string>? Affiliations = null);

    public sealed record HistoryLine(DateTimeOffset At, string? Actor, ProposalStatus? From, ProposalStatus To, string Reason);

    public sealed record AttachmentLine(Guid Id, string FileName, long SizeBytes, DateTimeOffset UploadedAt);

    /// <summary>Loads the proposal <paramref name="id"/> from <paramref name="scope"/> (already filtered by who may see it); null when absent.</summary>
    public static async Task<ProposalView?> LoadAsync(PortalDbContext db, IQueryable<Proposal> scope, Guid id, CancellationToken cancellationToken)
    {
        var proposal = await scope.AsNoTracking()
            .Include(p => p.Requests)
            .Include(p => p.Members)
            // One round trip: a proposal has a few requests and a few members, so the joined rows stay few.
            .AsSingleQuery()
            .SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (proposal is null)
        {
            return null;
        }
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == proposal.CallId, cancellationToken);
        var clusterNames = await db.Clusters.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        var requests = call.Clusters
            .Select(t =>
            {
                var r = proposal.Requests.FirstOrDefault(x => x.ClusterId == t.ClusterId);
                return new RequestLine(t.ClusterId, clusterNames.GetValueOrDefault(t.ClusterId, "?"), r?.RequestedHours ?? 0, r?.MinimumViableHours ?? 0, t.MaxRequestHours);
            })
            .ToList();
        var userIds = proposal.Members.Where(m => m.UserId != null).Select(m => m.UserId!.Value).ToList();
        var users = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id))
            .ToDictionaryAsync(u => u.Id, u => new { u.FullName, u.Email, u.Institution, u.InstitutionVerified, u.OrcidId, u.OrcidIdVerified, u.VerifiedAffiliations }, cancellationToken);
        var team = proposal.Members
            .OrderBy(m => m.Role).ThenBy(m => m.InvitedAt)
            .Select(m => m.UserId is { } uid && users.TryGetValue(uid, out var u)
                ? new MemberLine(m.Id, uid, u.FullName, u.Email ?? "", u.Institution, m.Role, false, u.InstitutionVerified, u.OrcidId, u.OrcidIdVerified, u.VerifiedAffiliations)
                : new MemberLine(m.Id, null, m.InvitedEmail ?? "", m.InvitedEmail ?? "", null, m.Role, true))
            .ToList();
        var timeline = await db.ProposalHistory.AsNoTracking()
            .Where(h => h.ProposalId == id)
            .OrderBy(h => h.Id)
            .Select(h => new HistoryLine(h.At, db.Users.Where(u => u.Id == h.ActorUserId).Select(u => u.FullName).FirstOrDefault(), h.FromStatus, h.ToStatus, h.Reason))
            .ToListAsync(cancellationToken);
        var attachments = await db.ProposalAttachments.AsNoTracking()
            .Where(a => a.ProposalId == id)
            .OrderBy(a => a.UploadedAt)
            .Select(a => new AttachmentLine(a.Id, a.FileName, a.SizeBytes, a.UploadedAt))
            .ToListAsync(cancellationToken);
        var pi = team.FirstOrDefault(t => t.Role == MemberRole.PrincipalInvestigator);
        return new ProposalView(proposal, call, requests, team, timeline, attachments, pi?.Institution ?? "");
    }
}

using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Shared;

/// <summary>
/// Everything a read-only proposal page shows, for the team (/Proposals), the admins (/Admin/Proposals) and the
/// reviewers (/Reviews): each passes its own scope. Attachment bytes are never read, nor any cluster the call does
/// not offer; the proposal, its requests and its team with their names come in one query.
/// </summary>
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

    /// <param name="ActorId">Who took the step (null for the system): what decides whether a reader may see <paramref name="Actor"/>.</param>
    public sealed record HistoryLine(DateTimeOffset At, Guid? ActorId, string? Actor, ProposalStatus? From, ProposalStatus To, string Reason);

    public sealed record AttachmentLine(Guid Id, string FileName, long SizeBytes, DateTimeOffset UploadedAt);

    private sealed record Person(string Name, string? Email, string? Institution, bool InstitutionVerified, string? OrcidId, bool OrcidIdVerified, List<string> Affiliations);

    /// <summary>
    /// Loads the proposal <paramref name="id"/> from <paramref name="scope"/> (already filtered by who may see it, and
    /// carrying any Include the page needs); null when it is not there. Its <see cref="Proposal.Members"/> are not
    /// loaded: <see cref="Team"/> has them with their names.
    /// </summary>
    public static async Task<ProposalView?> LoadAsync(PortalDbContext db, IQueryable<Proposal> scope, Guid id, CancellationToken cancellationToken)
    {
        var found = await scope.AsNoTracking()
            .Include(p => p.Requests)
            .Where(p => p.Id == id)
            .Select(p => new
            {
                Proposal = p,
                // A left join per member (who may be only an invited address): never a scan of the users.
                Team = (from m in p.Members
                        join u in db.Users on m.UserId equals u.Id into users
                        from u in users.DefaultIfEmpty()
                        select new { m.Id, m.Role, m.InvitedAt, m.InvitedEmail, User = u == null ? null : new { u.Id, Person = new Person(u.FullName, u.Email, u.Institution, u.InstitutionVerified, u.OrcidId, u.OrcidIdVerified, u.VerifiedAffiliations) } })
                    .ToList(),
            })
            // One round trip: a proposal has a few requests and a few members, so the joined rows stay few.
            .AsSingleQuery()
            .SingleOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return null;
        }
        var proposal = found.Proposal;
        var (call, clusterNames) = await LoadCallAsync(db, proposal.CallId, cancellationToken);
        var requests = call.Clusters
            .Select(t =>
            {
                var r = proposal.Requests.FirstOrDefault(x => x.ClusterId == t.ClusterId);
                return new RequestLine(t.ClusterId, clusterNames.GetValueOrDefault(t.ClusterId, "?"), r?.RequestedHours ?? 0, r?.MinimumViableHours ?? 0, t.MaxRequestHours);
            })
            .ToList();
        // Ordered here: roles are stored by name, and the PI comes first.
        var team = found.Team
            .OrderBy(m => m.Role).ThenBy(m => m.InvitedAt)
            .Select(m => m.User is { } u
                ? new MemberLine(m.Id, u.Id, u.Person.Name, u.Person.Email ?? "", u.Person.Institution, m.Role, false,
                    u.Person.InstitutionVerified, u.Person.OrcidId, u.Person.OrcidIdVerified, u.Person.Affiliations)
                : new MemberLine(m.Id, null, m.InvitedEmail ?? "", m.InvitedEmail ?? "", null, m.Role, true))
            .ToList();
        var timeline = await db.ProposalHistory.AsNoTracking()
            .Where(h => h.ProposalId == id)
            .OrderBy(h => h.Id)
            .Select(h => new HistoryLine(h.At, h.ActorUserId, db.Users.Where(u => u.Id == h.ActorUserId).Select(u => u.FullName).FirstOrDefault(), h.FromStatus, h.ToStatus, h.Reason))
            .ToListAsync(cancellationToken);
        var attachments = await db.ProposalAttachments.AsNoTracking()
            .Where(a => a.ProposalId == id)
            .OrderBy(a => a.UploadedAt)
            .Select(a => new AttachmentLine(a.Id, a.FileName, a.SizeBytes, a.UploadedAt))
            .ToListAsync(cancellationToken);
        var pi = team.FirstOrDefault(t => t.Role == MemberRole.PrincipalInvestigator);
        return new ProposalView(proposal, call, requests, team, timeline, attachments, pi?.Institution ?? "");
    }

    /// <summary>
    /// The timeline as the team reads it: a step is named only when one of the team took it, decided by user id (a name
    /// can be anything anyone picks) and never for one of the proposal's <paramref name="reviewers"/>; the program's and
    /// the reviewers' steps say when, not who. No decision shows before it is released.
    /// </summary>
    public IReadOnlyList<HistoryLine> ApplicantTimeline(IReadOnlyCollection<Guid> reviewers)
    {
        var team = Team.Where(m => m.UserId is { } id && !reviewers.Contains(id)).Select(m => m.UserId!.Value).ToHashSet();
        return [.. Timeline
            .Where(h => Proposal.DecisionReleasedAt is not null || h.To != ProposalStatus.Decided)
            .Select(h => h with { Actor = h.ActorId is { } actor && team.Contains(actor) ? h.Actor : null })];
    }

    /// <summary>A call with the names of the clusters it offers (and of no others).</summary>
    public static async Task<(Call Call, IReadOnlyDictionary<Guid, string> ClusterNames)> LoadCallAsync(PortalDbContext db, Guid callId, CancellationToken cancellationToken)
    {
        var found = await db.Calls.AsNoTracking()
            .Where(c => c.Id == callId)
            .Select(c => new { Call = c, Clusters = (from t in c.Clusters join k in db.Clusters on t.ClusterId equals k.Id select new { k.Id, k.Name }).ToList() })
            // Split, as calls always are: one joined query would repeat the call's long texts for every cluster and criterion.
            .AsSplitQuery()
            .SingleAsync(cancellationToken);
        return (found.Call, found.Clusters.ToDictionary(k => k.Id, k => k.Name));
    }
}

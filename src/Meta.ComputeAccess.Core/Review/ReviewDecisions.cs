using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Review;

/// <summary>
/// Decisions: recorded per proposal or in bulk (awards default to the median recommendation within the technical cap),
/// released together (applicants notified; the call is decided once every proposal is), and the PI's answer to an award,
/// which hands an accepted award to the allocation module through <see cref="IAwardAcceptanceHandler"/>.
/// Each method saves its change in one transaction.
/// </summary>
public sealed class ReviewDecisions(
    PortalDbContext db,
    ReviewRanking ranking,
    Notifier notifier,
    AuditLog audit,
    IAwardAcceptanceHandler acceptance,
    TimeProvider clock)
{
    /// <summary>Records a decision. For an award, <paramref name="hours"/> null means the default per cluster.</summary>
    public Task DecideAsync(Guid proposalId, ProposalDecision decision, IReadOnlyList<AwardedHours>? hours, string message, Guid admin, CancellationToken cancellationToken) =>
        db.SaveAsync(async () =>
        {
            var proposal = (await LoadAsync([proposalId], cancellationToken)).GetValueOrDefault(proposalId) ?? throw new DomainException("No such proposal.");
            if (decision == ProposalDecision.Awarded && hours is null)
            {
                hours = (await ranking.DefaultAwardsAsync(proposal.CallId, [proposalId], cancellationToken)).GetValueOrDefault(proposalId)
                    ?? throw new DomainException("The proposal is not among the call's ranked proposals.");
            }
            await RecordAsync([(proposal, hours)], decision, message, admin, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Records the same decision for several proposals of the call's ranking (awards at their default hours); all or
    /// nothing. The defaults are worked out once for all of them.
    /// </summary>
    public Task<int> DecideManyAsync(Guid callId, IReadOnlyCollection<Guid> proposalIds, ProposalDecision decision, string message, Guid admin, CancellationToken cancellationToken) =>
        db.SaveAsync(async () =>
        {
            if (proposalIds.Count == 0)
            {
                throw new DomainException("Select at least one proposal.");
            }
            var defaults = await ranking.DefaultAwardsAsync(callId, proposalIds, cancellationToken);
            if (proposalIds.Any(id => !defaults.ContainsKey(id)))
            {
                throw new DomainException("A selected proposal is not in this call's ranking.");
            }
            var proposals = await LoadAsync(proposalIds, cancellationToken);
            await RecordAsync([.. proposalIds.Select(id => (proposals[id], decision == ProposalDecision.Awarded ? defaults[id] : null))], decision, message, admin, cancellationToken);
            return proposalIds.Count;
        }, cancellationToken);

    private async Task<Dictionary<Guid, Proposal>> LoadAsync(IReadOnlyCollection<Guid> proposalIds, CancellationToken cancellationToken) =>
        await db.Proposals.Include(p => p.Requests).Include(p => p.Awards).AsSplitQuery()
            .Where(p => proposalIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, cancellationToken);

    /// <summary>Records <paramref name="decision"/> on each proposal (awards within the technical caps), audited; not saved.</summary>
    private async Task RecordAsync(IReadOnlyList<(Proposal Proposal, IReadOnlyList<AwardedHours>? Hours)> decided, ProposalDecision decision, string message, Guid admin, CancellationToken cancellationToken)
    {
        var ids = decided.Select(d => d.Proposal.Id).ToList();
        var caps = (await db.Screenings.AsNoTracking().Where(s => ids.Contains(s.ProposalId))
                .SelectMany(s => s.Caps.Select(c => new { s.ProposalId, c.ClusterId, c.Hours })).ToListAsync(cancellationToken))
            .ToLookup(c => c.ProposalId);
        var now = clock.GetUtcNow();
        foreach (var (proposal, hours) in decided)
        {
            if (decision == ProposalDecision.Awarded)
            {
                foreach (var h in hours ?? [])
                {
                    if (caps[proposal.Id].FirstOrDefault(c => c.ClusterId == h.ClusterId) is { } cap && h.Hours > cap.Hours)
                    {
                        throw new DomainException($"The award on a cluster cannot exceed its technical cap of {cap.Hours.AsHours()} hours.");
                    }
                }
            }
            proposal.Decide(decision, hours ?? [], admin, now, message);
            audit.Record(admin, "review.decided", "proposal", proposal.Id.ToString(),
                decision == ProposalDecision.Awarded
                    ? $"Decision recorded: awarded {string.Join(", ", proposal.Awards.Select(a => a.Hours.AsHours()))} hours to {proposal.Title}"
                    : $"Decision recorded: {decision} for {proposal.Title}");
        }
    }

    /// <summary>
    /// Releases every recorded, unreleased decision of the call at once, notifies the teams, and marks the call decided
    /// when no proposal is left undecided.
    /// </summary>
    public Task<int> ReleaseAsync(Guid callId, Guid admin, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var call = await db.Calls.SingleAsync(c => c.Id == callId, cancellationToken);
        var proposals = await db.Proposals.Include(p => p.Members)
            .Where(p => p.CallId == callId && p.Status == ProposalStatus.Decided && p.DecisionReleasedAt == null)
            .ToListAsync(cancellationToken);
        if (proposals.Count == 0)
        {
            throw new DomainException("There are no recorded decisions waiting to be released.");
        }
        var now = clock.GetUtcNow();
        foreach (var p in proposals)
        {
            p.ReleaseDecision(admin, now);
            var outcome = p.Decision switch
            {
                ProposalDecision.Awarded => "awarded",
                ProposalDecision.Waitlisted => "waitlisted",
                _ => "declined",
            };
            await notifier.NotifyAsync(p.Members.Where(m => m.UserId != null).Select(m => m.UserId!.Value), NotificationKinds.DecisionReleased,
                p.Title, $"/Proposals/Details/{p.Id}", new Dictionary<string, string> { ["outcome"] = outcome }, cancellationToken);
        }
        var undecided = await db.Proposals.AnyAsync(p => p.CallId == callId && ProposalStatusSets.Undecided.Contains(p.Status), cancellationToken);
        if (!undecided && call.Kind == CallKind.Fixed && (call.Status == CallStatus.Closed || (call.Status == CallStatus.Open && call.ClosesAt <= now)))
        {
            call.MarkDecided();
        }
        audit.Record(admin, "review.released", "call", callId.ToString(), $"Released {proposals.Count} decisions of {call.Title}");
        return proposals.Count;
    }, cancellationToken);

    /// <summary>
    /// The PI accepts or declines a released award; acceptance goes to the allocation module in the same transaction.
    /// False when the PI may not see the proposal (404).
    /// </summary>
    public Task<bool> RespondAsync(Guid proposalId, bool accept, Guid pi, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var proposal = await db.Proposals.VisibleTo(Viewer.Applicant(pi)).Include(p => p.Awards).Include(p => p.Members).AsSplitQuery()
            .SingleOrDefaultAsync(p => p.Id == proposalId, cancellationToken);
        if (proposal is null)
        {
            return false;
        }
        var now = clock.GetUtcNow();
        if (!accept)
        {
            proposal.DeclineAward(pi, now);
            // Nothing was committed for it yet (the allocation is made on acceptance): the admins may offer the hours to the waitlist.
            await notifier.NotifyAdminsAsync(NotificationKinds.AwardDeclined, proposal.Title, $"/Admin/Proposals/Details/{proposal.Id}",
                new Dictionary<string, string> { ["hours"] = proposal.Awards.Sum(a => a.Hours).AsHours() }, cancellationToken);
            return true;
        }
        proposal.AcceptAward(pi, now);
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == proposal.CallId, cancellationToken);
        await acceptance.OnAwardAcceptedAsync(new AcceptedAward(proposal.Id, call.Id, proposal.PiUserId, proposal.Title,
            [.. proposal.Awards.Select(a => (a.ClusterId, a.Hours))], call.AwardStart, call.AwardEnd, now), cancellationToken);
        await notifier.NotifyAsync(proposal.Members.Where(m => m.UserId != null).Select(m => m.UserId!.Value), NotificationKinds.AwardAccepted,
            proposal.Title, $"/Proposals/Details/{proposal.Id}", null, cancellationToken);
        await notifier.NotifyAdminsAsync(NotificationKinds.AwardAccepted, proposal.Title, $"/Admin/Proposals/Details/{proposal.Id}", null, cancellationToken);
        return true;
    }, cancellationToken);
}

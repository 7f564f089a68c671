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
/// Nothing is saved here except by <see cref="ReleaseAsync"/>, which runs in its own transaction.
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
    public async Task DecideAsync(Guid proposalId, ProposalDecision decision, IReadOnlyList<AwardedHours>? hours, string message, Guid admin, CancellationToken cancellationToken)
    {
        var proposal = await db.Proposals.Include(p => p.Requests).Include(p => p.Awards).AsSplitQuery()
            .SingleOrDefaultAsync(p => p.Id == proposalId, cancellationToken) ?? throw new DomainException("No such proposal.");
        if (decision == ProposalDecision.Awarded)
        {
            var defaults = await DefaultsAsync(proposal.CallId, proposalId, cancellationToken);
            hours ??= defaults;
            var caps = await db.Screenings.AsNoTracking().Where(s => s.ProposalId == proposalId).SelectMany(s => s.Caps).ToListAsync(cancellationToken);
            foreach (var h in hours)
            {
                if (caps.FirstOrDefault(c => c.ClusterId == h.ClusterId) is { } cap && h.Hours > cap.Hours)
                {
                    throw new DomainException($"The award on a cluster cannot exceed its technical cap of {cap.Hours:N0} hours.");
                }
            }
        }
        proposal.Decide(decision, hours ?? [], admin, clock.GetUtcNow(), message);
        audit.Record(admin, "review.decided", "proposal", proposalId.ToString(),
            decision == ProposalDecision.Awarded
                ? $"Decision recorded: awarded {string.Join(", ", proposal.Awards.Select(a => a.Hours.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))} hours to {proposal.Title}"
                : $"Decision recorded: {decision} for {proposal.Title}");
    }

    /// <summary>The default award hours per requested cluster (median recommendation within cap and request).</summary>
    public async Task<IReadOnlyList<AwardedHours>> DefaultsAsync(Guid callId, Guid proposalId, CancellationToken cancellationToken)
    {
        var row = (await ranking.BuildAsync(callId, cancellationToken)).Rows.FirstOrDefault(r => r.ProposalId == proposalId)
            ?? throw new DomainException("The proposal is not among the call's ranked proposals.");
        return [.. row.Hours.Select(h => new AwardedHours(h.ClusterId, h.DefaultAward))];
    }

    /// <summary>Records the same decision for several proposals (awards at their default hours); all or nothing.</summary>
    public async Task<int> DecideManyAsync(Guid callId, IReadOnlyCollection<Guid> proposalIds, ProposalDecision decision, string message, Guid admin, CancellationToken cancellationToken)
    {
        if (proposalIds.Count == 0)
        {
            throw new DomainException("Select at least one proposal.");
        }
        var rows = (await ranking.BuildAsync(callId, cancellationToken)).Rows.ToDictionary(r => r.ProposalId);
        foreach (var id in proposalIds)
        {
            if (!rows.TryGetValue(id, out var row))
            {
                throw new DomainException("A selected proposal is not in this call's ranking.");
            }
            await DecideAsync(id, decision, decision == ProposalDecision.Awarded ? [.. row.Hours.Select(h => new AwardedHours(h.ClusterId, h.DefaultAward))] : null, message, admin, cancellationToken);
        }
        return proposalIds.Count;
    }

    /// <summary>
    /// Releases every recorded, unreleased decision of the call at once, notifies the teams, and marks the call decided
    /// when no proposal is left undecided. Saved here, in one transaction.
    /// </summary>
    public async Task<int> ReleaseAsync(Guid callId, Guid admin, CancellationToken cancellationToken)
    {
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
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
        var undecided = await db.Proposals.AnyAsync(p => p.CallId == callId
            && p.Status != ProposalStatus.Draft && p.Status != ProposalStatus.Withdrawn && p.Status != ProposalStatus.Decided, cancellationToken);
        if (!undecided && call.Kind == CallKind.Fixed && (call.Status == CallStatus.Closed || (call.Status == CallStatus.Open && call.ClosesAt <= now)))
        {
            call.MarkDecided();
        }
        audit.Record(admin, "review.released", "call", callId.ToString(), $"Released {proposals.Count} decisions of {call.Title}");
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return proposals.Count;
    }

    /// <summary>
    /// The PI accepts or declines a released award; acceptance goes to the allocation module in the same unit of work.
    /// Saves; false when <paramref name="pi"/> is not on the proposal's team.
    /// </summary>
    public async Task<bool> RespondAsync(Guid proposalId, bool accept, Guid pi, CancellationToken cancellationToken)
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
                new Dictionary<string, string> { ["hours"] = proposal.Awards.Sum(a => a.Hours).ToString("N0", System.Globalization.CultureInfo.InvariantCulture) }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        proposal.AcceptAward(pi, now);
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == proposal.CallId, cancellationToken);
        await acceptance.OnAwardAcceptedAsync(new AcceptedAward(proposal.Id, call.Id, proposal.PiUserId, proposal.Title,
            [.. proposal.Awards.Select(a => (a.ClusterId, a.Hours))], call.AwardStart, call.AwardEnd, now), cancellationToken);
        await notifier.NotifyAsync(proposal.Members.Where(m => m.UserId != null).Select(m => m.UserId!.Value), NotificationKinds.AwardAccepted,
            proposal.Title, $"/Proposals/Details/{proposal.Id}", null, cancellationToken);
        await notifier.NotifyAdminsAsync(NotificationKinds.AwardAccepted, proposal.Title, $"/Admin/Proposals/Details/{proposal.Id}", null, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }
}

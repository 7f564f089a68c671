using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Review;

/// <summary>One decision to record: an award with hours per cluster (null: the default award), a waitlist or a decline, with the message to the applicants.</summary>
public sealed record DecisionToRecord(Guid ProposalId, ProposalDecision Decision, IReadOnlyList<AwardedHours>? Hours, string Message);

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
    IEnumerable<IAwardGate> awardGates,
    IEnumerable<IAwardConditions> awardConditions,
    TimeProvider clock)
{
    /// <summary>Records a decision. For an award, <paramref name="hours"/> null means the default per cluster.</summary>
    public Task DecideAsync(Guid proposalId, ProposalDecision decision, IReadOnlyList<AwardedHours>? hours, string message, Guid admin, CancellationToken cancellationToken) =>
        db.SaveAsync(async () =>
        {
            var callId = await db.Proposals.Where(p => p.Id == proposalId).Select(p => (Guid?)p.CallId).SingleOrDefaultAsync(cancellationToken)
                ?? throw new DomainException("No such proposal.");
            await RecordAllAsync(callId, [new DecisionToRecord(proposalId, decision, hours, message)], admin, cancellationToken);
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
                throw new DomainException("Select at least one proposal (the boxes in the first column): nothing was recorded.");
            }
            return await RecordAllAsync(callId, [.. proposalIds.Select(id => new DecisionToRecord(id, decision, null, message))], admin, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Records each proposal's own decision (the award plan's lines), all or nothing, through the same checks and audit as
    /// the ranking page.
    /// </summary>
    public Task<int> RecordAsync(Guid callId, IReadOnlyCollection<DecisionToRecord> decisions, Guid admin, CancellationToken cancellationToken) =>
        db.SaveAsync(() => RecordAllAsync(callId, decisions, admin, cancellationToken), cancellationToken);

    /// <summary>
    /// Holds the call's decisions still until the caller's transaction ends: every recording of decisions of the call
    /// takes it, so what one admin read before deciding (the award plan's fingerprint) cannot change under them.
    /// Needs an open transaction; taking it twice in one is harmless.
    /// </summary>
    internal Task LockDecisionsAsync(Guid callId, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({"call-decisions:" + callId}, 0))", cancellationToken);

    /// <summary>
    /// The one way decisions are recorded: each proposal must be the call's; an award without hours gets its default (the
    /// median recommendation within the cap, <see cref="ReviewRanking.DefaultAwardsAsync"/>, worked out once for all of
    /// them), every award stays within the technical caps, and each decision is audited. Not saved here.
    /// </summary>
    private async Task<int> RecordAllAsync(Guid callId, IReadOnlyCollection<DecisionToRecord> decisions, Guid admin, CancellationToken cancellationToken)
    {
        if (decisions.Count == 0)
        {
            throw new DomainException("There is no decision to record.");
        }
        await LockDecisionsAsync(callId, cancellationToken);
        var ids = decisions.Select(d => d.ProposalId).Distinct().ToList();
        if (ids.Count != decisions.Count)
        {
            throw new DomainException("Each proposal gets one decision at a time.");
        }
        var proposals = await db.Proposals.Include(p => p.Requests).Include(p => p.Awards).AsSplitQuery()
            .Where(p => ids.Contains(p.Id) && p.CallId == callId).ToDictionaryAsync(p => p.Id, cancellationToken);
        if (proposals.Count != ids.Count)
        {
            throw new DomainException("A selected proposal is not in this call.");
        }
        var now = clock.GetUtcNow();
        var deadline = await db.Calls.Where(c => c.Id == callId && c.ResponseOpenedAt != null).Select(c => c.ResponseDeadline).SingleOrDefaultAsync(cancellationToken);
        if (now < deadline)
        {
            throw new DomainException("The applicants may still respond to the reviews: decide once the response phase is over ("
                + deadline.Value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + " UTC).");
        }
        // Compliance screens the awarded teams again and holds the award while a hit on any of them is open or blocked;
        // the safety track refuses an award a safety reviewer rejected.
        await EnsureClearAsync([.. decisions.Where(d => d.Decision == ProposalDecision.Awarded).Select(d => d.ProposalId)], AwardStep.Record, cancellationToken);
        var needDefaults = decisions.Where(d => d.Decision == ProposalDecision.Awarded && d.Hours is null).Select(d => d.ProposalId).ToList();
        var defaults = needDefaults.Count == 0 ? new Dictionary<Guid, IReadOnlyList<AwardedHours>>() : await ranking.DefaultAwardsAsync(callId, needDefaults, cancellationToken);
        if (needDefaults.Any(id => !defaults.ContainsKey(id)))
        {
            throw new DomainException("A selected proposal is not in this call's ranking, so it has no default award: give its hours on its own page.");
        }
        var caps = (await db.Screenings.AsNoTracking().Where(s => ids.Contains(s.ProposalId))
                .SelectMany(s => s.Caps.Select(c => new { s.ProposalId, c.ClusterId, c.Hours })).ToListAsync(cancellationToken))
            .ToLookup(c => c.ProposalId);
        foreach (var d in decisions)
        {
            var proposal = proposals[d.ProposalId];
            var hours = d.Decision == ProposalDecision.Awarded ? d.Hours ?? defaults[d.ProposalId] : d.Hours ?? [];
            if (d.Decision == ProposalDecision.Awarded)
            {
                foreach (var h in hours)
                {
                    if (caps[proposal.Id].FirstOrDefault(c => c.ClusterId == h.ClusterId) is { } cap && h.Hours > cap.Hours)
                    {
                        throw new DomainException($"The award on a cluster cannot exceed its technical cap of {cap.Hours.AsHours()} hours.");
                    }
                }
            }
            proposal.Decide(d.Decision, hours, admin, now, d.Message);
            audit.Record(admin, "review.decided", "proposal", proposal.Id.ToString(),
                d.Decision == ProposalDecision.Awarded
                    ? $"Decision recorded: awarded {string.Join(", ", proposal.Awards.Select(a => a.Hours.AsHours()))} hours to {proposal.Title}"
                    : $"Decision recorded: {d.Decision} for {proposal.Title}");
        }
        return decisions.Count;
    }

    /// <summary>
    /// Releases every recorded, unreleased decision of the call at once, notifies the teams, and marks the call decided
    /// when no proposal is left undecided.
    /// </summary>
    public Task<int> ReleaseAsync(Guid callId, Guid admin, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var call = await db.Calls.SingleAsync(c => c.Id == callId, cancellationToken);
        // The decisions to release are locked first: a safety reviewer's decision (which locks its proposal) either commits
        // before the gates below read it, or waits until the release is done.
        await db.LockAsync<Proposal>(
            $"SELECT *, xmin FROM proposals WHERE call_id = {callId} AND status = {nameof(ProposalStatus.Decided)} AND decision_released_at IS NULL ORDER BY id FOR UPDATE",
            cancellationToken);
        var proposals = await db.Proposals.Include(p => p.Members)
            .Where(p => p.CallId == callId && p.Status == ProposalStatus.Decided && p.DecisionReleasedAt == null)
            .ToListAsync(cancellationToken);
        if (proposals.Count == 0)
        {
            throw new DomainException("There are no recorded decisions waiting to be released.");
        }
        // Compliance screens the awarded teams again and holds the release while a hit is open or blocked; the safety
        // track holds it until a safety reviewer approved each flagged award.
        await EnsureClearAsync([.. proposals.Where(p => p.Decision == ProposalDecision.Awarded).Select(p => p.Id)], AwardStep.Release, cancellationToken);
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
        audit.Record(admin, "review.released", "call", callId.ToString(), $"Released {English.Count(proposals.Count, "decision")} of {call.Title}");
        return proposals.Count;
    }, cancellationToken);

    private async Task EnsureClearAsync(IReadOnlyCollection<Guid> proposalIds, AwardStep step, CancellationToken cancellationToken)
    {
        foreach (var gate in awardGates)
        {
            await gate.EnsureClearAsync(proposalIds, step, cancellationToken);
        }
    }

    /// <summary>Everything the PI must accept with the award (the call's award terms, safety conditions), in a fixed order.</summary>
    public async Task<IReadOnlyList<AwardCondition>> ConditionsAsync(Guid proposalId, CancellationToken cancellationToken)
    {
        var all = new List<AwardCondition>();
        foreach (var source in awardConditions)
        {
            all.AddRange(await source.ForAwardAsync(proposalId, cancellationToken));
        }
        return all;
    }

    /// <summary>
    /// The PI accepts or declines a released award; acceptance goes to the allocation module in the same transaction.
    /// To accept, the PI must accept every condition of the award (<see cref="ConditionsAsync"/>) by its key in
    /// <paramref name="acceptedConditions"/>; each is kept with its text. With <paramref name="listing"/> the PI agrees, on
    /// accepting, to the public listing of the award. False when the PI may not see the proposal (404).
    /// </summary>
    public Task<bool> RespondAsync(Guid proposalId, bool accept, Guid pi, CancellationToken cancellationToken, PublicListing? listing = null) =>
        RespondAsync(proposalId, accept, pi, [], cancellationToken, listing);

    /// <inheritdoc cref="RespondAsync(Guid, bool, Guid, CancellationToken, PublicListing?)"/>
    public Task<bool> RespondAsync(Guid proposalId, bool accept, Guid pi, IReadOnlyCollection<string> acceptedConditions, CancellationToken cancellationToken,
        PublicListing? listing = null) => db.SaveAsync(async () =>
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
        var conditions = await ConditionsAsync(proposal.Id, cancellationToken);
        var missing = conditions.Where(c => !acceptedConditions.Contains(c.Key, StringComparer.Ordinal)).Select(c => c.Title).ToList();
        if (missing.Count > 0)
        {
            throw new DomainException($"To accept the award, accept {English.List(missing)} too (tick each box under the award). If a text changed since you opened the page, read it again.");
        }
        proposal.AcceptAward(pi, now, listing);
        foreach (var condition in conditions)
        {
            db.AwardConditionAcceptances.Add(AwardConditionAcceptance.Of(proposal.Id, condition, pi, now));
        }
        if (conditions.Count > 0)
        {
            audit.Record(pi, "review.award-conditions-accepted", "proposal", proposal.Id.ToString(), $"Accepted with the award of {proposal.Title}: {string.Join("; ", conditions.Select(c => c.Title))}");
        }
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == proposal.CallId, cancellationToken);
        await acceptance.OnAwardAcceptedAsync(new AcceptedAward(proposal.Id, call.Id, proposal.PiUserId, proposal.Title,
            [.. proposal.Awards.Select(a => (a.ClusterId, a.Hours))], call.AwardStart, call.AwardEnd, now), cancellationToken);
        await notifier.NotifyAsync(proposal.Members.Where(m => m.UserId != null).Select(m => m.UserId!.Value), NotificationKinds.AwardAccepted,
            proposal.Title, $"/Proposals/Details/{proposal.Id}", null, cancellationToken);
        await notifier.NotifyAdminsAsync(NotificationKinds.AwardAccepted, proposal.Title, $"/Admin/Proposals/Details/{proposal.Id}", null, cancellationToken);
        return true;
    }, cancellationToken);
}

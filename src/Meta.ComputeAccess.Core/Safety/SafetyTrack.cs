using System.Linq.Expressions;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Safety;

/// <summary>Where a proposal stands in the safety track: why it is there and the newest sign-off (none yet: it waits).</summary>
public sealed record SafetyState(SafetyReasons Reasons, SafetyOutcome? Outcome, string Text, long? DecisionId, DateTimeOffset? DecidedAt)
{
    public bool Waiting => Outcome is null;

    /// <summary>An award of the proposal may be released.</summary>
    public bool SignedOff => Outcome is SafetyOutcome.Approved or SafetyOutcome.ApprovedWithConditions;

    /// <summary>How the ranking, the award plan and the proposal's page name the state.</summary>
    public string Label => Outcome switch
    {
        null => "Safety sign-off pending",
        SafetyOutcome.Approved => "Safety: approved",
        SafetyOutcome.ApprovedWithConditions => "Safety: approved with conditions",
        _ => "Safety: rejected",
    };
}

/// <summary>
/// The safety and ethics track: which proposals are in it (they declare personal data, human subjects or a dual-use
/// risk, or ask for more than <see cref="SafetyOptions.ComputeThresholdHours"/>), where each stands, and a safety
/// reviewer's sign-off (approve, approve with conditions, reject with a reason), audited and announced to the admins.
/// Whether a proposal is in the track is read from the proposal itself, so it is the same wherever it is asked.
/// </summary>
public sealed class SafetyTrack(PortalDbContext db, AuditLog audit, Notifier notifier, IOptions<SafetyOptions> options, TimeProvider clock)
{
    /// <summary>Submitted proposals (any state after the draft) in the safety track: what a safety reviewer may see.</summary>
    public IQueryable<Proposal> Proposals() => db.Proposals.Where(p => p.Status != ProposalStatus.Draft).Where(InTrack(options.Value.ComputeThresholdHours));

    /// <summary>The proposals of the track <paramref name="reviewer"/> may read and sign off: none they are on the team of.</summary>
    public IQueryable<Proposal> ForReviewer(Guid reviewer) => Proposals().Where(NotOnTeam(reviewer));

    private static Expression<Func<Proposal, bool>> NotOnTeam(Guid reviewer) =>
        p => p.PiUserId != reviewer && !p.Members.Any(m => m.UserId == reviewer);

    /// <summary>The rule, for queries: a declaration or a request over the threshold (0: no compute rule).</summary>
    public static Expression<Func<Proposal, bool>> InTrack(decimal threshold) =>
        p => p.UsesPersonalData == true || p.InvolvesHumanSubjects == true || p.HasDualUseRisk == true || (threshold > 0 && p.TotalRequestedHours > threshold);

    public SafetyReasons ReasonsOf(Proposal p) => ReasonsOf(p.UsesPersonalData, p.InvolvesHumanSubjects, p.HasDualUseRisk, p.TotalRequestedHours);

    public SafetyReasons ReasonsOf(bool? personalData, bool? humanSubjects, bool? dualUse, decimal requestedHours)
    {
        var threshold = options.Value.ComputeThresholdHours;
        return (personalData == true ? SafetyReasons.PersonalData : 0)
            | (humanSubjects == true ? SafetyReasons.HumanSubjects : 0)
            | (dualUse == true ? SafetyReasons.DualUse : 0)
            | (threshold > 0 && requestedHours > threshold ? SafetyReasons.LargeRequest : 0);
    }

    /// <summary>The reasons as people read them: "personal data, dual-use risk".</summary>
    public string Describe(SafetyReasons reasons) => string.Join(", ", new[]
    {
        reasons.HasFlag(SafetyReasons.PersonalData) ? "personal data" : null,
        reasons.HasFlag(SafetyReasons.HumanSubjects) ? "human subjects" : null,
        reasons.HasFlag(SafetyReasons.DualUse) ? "dual-use risk" : null,
        reasons.HasFlag(SafetyReasons.LargeRequest) ? $"more than {options.Value.ComputeThresholdHours.AsHours()} GPU-hours requested" : null,
    }.OfType<string>());

    /// <summary>The state of each of <paramref name="proposalIds"/> that is in the track (the others are left out): two queries.</summary>
    public async Task<IReadOnlyDictionary<Guid, SafetyState>> StatesAsync(IReadOnlyCollection<Guid> proposalIds, CancellationToken cancellationToken)
    {
        if (proposalIds.Count == 0)
        {
            return new Dictionary<Guid, SafetyState>();
        }
        var flagged = await Proposals().AsNoTracking().Where(p => proposalIds.Contains(p.Id))
            .Select(p => new { p.Id, p.UsesPersonalData, p.InvolvesHumanSubjects, p.HasDualUseRisk, p.TotalRequestedHours })
            .ToListAsync(cancellationToken);
        var ids = flagged.Select(p => p.Id).ToList();
        var latest = await db.SafetyDecisions.AsNoTracking().Where(d => ids.Contains(d.ProposalId))
            .GroupBy(d => d.ProposalId).Select(g => g.OrderByDescending(d => d.Id).First())
            .ToDictionaryAsync(d => d.ProposalId, cancellationToken);
        return flagged.ToDictionary(p => p.Id, p =>
        {
            var reasons = ReasonsOf(p.UsesPersonalData, p.InvolvesHumanSubjects, p.HasDualUseRisk, p.TotalRequestedHours);
            return latest.TryGetValue(p.Id, out var d)
                ? new SafetyState(reasons, d.Outcome, d.Text, d.Id, d.DecidedAt)
                : new SafetyState(reasons, null, "", null, null);
        });
    }

    /// <summary>
    /// Records a safety reviewer's sign-off. <paramref name="basedOn"/> is the sign-off the reviewer saw (null: none),
    /// so two reviewers deciding at once do not overwrite each other unseen. False when the proposal is not in the track
    /// or the reviewer is on its team (404): nobody signs off their own proposal.
    /// </summary>
    public Task<bool> DecideAsync(Guid proposalId, SafetyOutcome outcome, string? text, long? basedOn, Guid reviewer, CancellationToken cancellationToken) =>
        db.SaveAsync(async () =>
        {
            // The proposal's row lock orders two sign-offs of the same proposal, so each sees the other's.
            var locked = await db.Proposals.FromSql($"SELECT * FROM proposals WHERE id = {proposalId} FOR UPDATE").AsNoTracking()
                .Where(InTrack(options.Value.ComputeThresholdHours)).Where(p => p.Status != ProposalStatus.Draft).Where(NotOnTeam(reviewer))
                .Select(p => new { p.Id, p.Title, p.Status, p.DecisionReleasedAt, p.UsesPersonalData, p.InvolvesHumanSubjects, p.HasDualUseRisk, p.TotalRequestedHours })
                .SingleOrDefaultAsync(cancellationToken);
            if (locked is null)
            {
                return false;
            }
            if (locked.Status == ProposalStatus.Withdrawn)
            {
                throw new DomainException("The proposal was withdrawn: there is nothing to sign off.");
            }
            if (locked.DecisionReleasedAt is not null)
            {
                throw new DomainException("The decision on this proposal was released: its safety sign-off can no longer change.");
            }
            var current = await db.SafetyDecisions.Where(d => d.ProposalId == proposalId).OrderByDescending(d => d.Id).Select(d => (long?)d.Id).FirstOrDefaultAsync(cancellationToken);
            if (current != basedOn)
            {
                throw new DomainException("Another safety reviewer signed this proposal off meanwhile: read their decision below and decide again if you disagree.");
            }
            var reasons = ReasonsOf(locked.UsesPersonalData, locked.InvolvesHumanSubjects, locked.HasDualUseRisk, locked.TotalRequestedHours);
            var decision = SafetyDecision.Create(proposalId, outcome, text, reasons, reviewer, clock.GetUtcNow());
            db.SafetyDecisions.Add(decision);
            var (action, words) = outcome switch
            {
                SafetyOutcome.Approved => ("safety.approved", "approved"),
                SafetyOutcome.ApprovedWithConditions => ("safety.approved-with-conditions", "approved with conditions"),
                _ => ("safety.rejected", "rejected"),
            };
            audit.Record(reviewer, action, "proposal", proposalId.ToString(),
                $"Safety sign-off of {locked.Title} ({Describe(reasons)}): {words}{(decision.Text.Length > 0 ? ": " + decision.Text : "")}");
            await notifier.NotifyAdminsAsync(NotificationKinds.SafetyDecided, locked.Title, $"/Admin/Proposals/Details/{proposalId}",
                new Dictionary<string, string> { ["outcome"] = words }, cancellationToken);
            return true;
        }, cancellationToken);
}

namespace Meta.ComputeAccess.Review;

public enum AppealOutcome
{
    Upheld,
    Dismissed,
}

/// <summary>
/// The team's appeal of a released decision: one per decision, with the team's reason, decided once by an admin with a
/// reason. The proposal's history records both steps (<c>Proposal.RecordAppealFiled</c>, <c>RecordAppealDecided</c>).
/// A released decision itself never changes: an upheld appeal is acted on through the allocation (a supplement, a new award).
/// </summary>
public sealed class DecisionAppeal
{
    public const int MaxReasonLength = 4_000;

    public const int MaxDecisionReasonLength = 900;

    public Guid Id { get; private set; }

    public Guid CallId { get; private set; }

    public Guid ProposalId { get; private set; }

    public Guid FiledByUserId { get; private set; }

    public string Reason { get; private set; } = "";

    public DateTimeOffset FiledAt { get; private set; }

    public AppealOutcome? Outcome { get; private set; }

    public string DecisionReason { get; private set; } = "";

    public Guid? DecidedByUserId { get; private set; }

    public DateTimeOffset? DecidedAt { get; private set; }

    public uint Version { get; private set; }

    private DecisionAppeal()
    {
    }

    internal static DecisionAppeal File(Guid callId, Guid proposalId, Guid member, string? reason, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        CallId = callId,
        ProposalId = proposalId,
        FiledByUserId = member,
        Reason = Reasons.Require(reason, MaxReasonLength, "the appeal"),
        FiledAt = now,
    };

    internal void Decide(AppealOutcome outcome, string? reason, Guid admin, DateTimeOffset now)
    {
        if (Outcome is not null)
        {
            throw new DomainException($"This appeal was already decided ({Outcome.Value.ToString().ToLowerInvariant()}).");
        }
        if (!Enum.IsDefined(outcome))
        {
            throw new DomainException("Uphold or dismiss the appeal.");
        }
        DecisionReason = Reasons.Require(reason, MaxDecisionReasonLength, "the proposal's history, which the applicants read");
        Outcome = outcome;
        DecidedByUserId = admin;
        DecidedAt = now;
    }
}

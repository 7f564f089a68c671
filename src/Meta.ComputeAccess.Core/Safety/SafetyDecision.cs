namespace Meta.ComputeAccess.Safety;

/// <summary>Why a proposal is in the safety track (any of them).</summary>
[Flags]
public enum SafetyReasons
{
    None = 0,
    PersonalData = 1,
    HumanSubjects = 2,
    DualUse = 4,
    LargeRequest = 8,
}

public enum SafetyOutcome
{
    Approved,

    /// <summary>Approved, with conditions shown on the award that the PI must accept explicitly.</summary>
    ApprovedWithConditions,

    /// <summary>The award can be neither recorded nor released.</summary>
    Rejected,
}

/// <summary>
/// A safety reviewer's sign-off on a proposal in the safety track. Append-only: a later decision (before the proposal's
/// decision is released) is a new row, and the newest row is the proposal's sign-off.
/// </summary>
public sealed class SafetyDecision
{
    public const int MaxTextLength = 4_000;

    public long Id { get; private set; }

    public Guid ProposalId { get; private set; }

    public SafetyOutcome Outcome { get; private set; }

    /// <summary>The conditions (approved with conditions), the reason (rejected) or an optional note (approved).</summary>
    public string Text { get; private set; } = "";

    /// <summary>Why the proposal was in the track when this was decided.</summary>
    public SafetyReasons Reasons { get; private set; }

    public Guid DecidedByUserId { get; private set; }

    public DateTimeOffset DecidedAt { get; private set; }

    private SafetyDecision()
    {
    }

    internal static SafetyDecision Create(Guid proposalId, SafetyOutcome outcome, string? text, SafetyReasons reasons, Guid reviewer, DateTimeOffset now)
    {
        if (!Enum.IsDefined(outcome))
        {
            throw new DomainException("Choose approve, approve with conditions or reject.");
        }
        text = (text ?? "").Trim();
        if (text.Length > MaxTextLength || PlainText.HasControlOutsideLines(text))
        {
            throw new DomainException($"The text is plain text of at most {MaxTextLength:N0} characters.", new Dictionary<string, string> { ["Text"] = $"At most {MaxTextLength:N0} characters of plain text." });
        }
        switch (outcome)
        {
            case SafetyOutcome.ApprovedWithConditions when text.Length < 10:
                throw new DomainException("Write the conditions the PI must accept with the award (at least a sentence).", new Dictionary<string, string> { ["Text"] = "Write the conditions." });
            case SafetyOutcome.Rejected when text.Length < 10:
                throw new DomainException("Give the reason for rejecting (at least a sentence): the admins read it, and it is kept in the audit log.", new Dictionary<string, string> { ["Text"] = "Give a reason." });
        }
        return new SafetyDecision { ProposalId = proposalId, Outcome = outcome, Text = text, Reasons = reasons, DecidedByUserId = reviewer, DecidedAt = now };
    }
}

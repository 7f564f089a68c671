namespace Meta.ComputeAccess.Review;

/// <summary>
/// Something the PI must accept, explicitly, to accept an award: the call's award terms, a safety reviewer's
/// conditions. <paramref name="Key"/> names the exact version (a changed text is a new key), so a form shown before
/// the text changed cannot accept the new one.
/// </summary>
public sealed record AwardCondition(string Key, string Title, string Text);

/// <summary>
/// What comes with an award besides its hours. Declared here and implemented by the modules that set such conditions
/// (the terms module's call award terms, the safety module's conditions), so Review never names them; the PI's
/// acceptance of each is kept by Review (<see cref="AwardConditionAcceptance"/>) in the acceptance's transaction.
/// </summary>
public interface IAwardConditions
{
    Task<IReadOnlyList<AwardCondition>> ForAwardAsync(Guid proposalId, CancellationToken cancellationToken);
}

/// <summary>The PI accepted one condition of an award (its text as shown), when accepting the award. Append-only.</summary>
public sealed class AwardConditionAcceptance
{
    public long Id { get; private set; }

    public Guid ProposalId { get; private set; }

    public string Key { get; private set; } = "";

    public string Title { get; private set; } = "";

    public string Text { get; private set; } = "";

    public Guid AcceptedByUserId { get; private set; }

    public DateTimeOffset AcceptedAt { get; private set; }

    private AwardConditionAcceptance()
    {
    }

    internal static AwardConditionAcceptance Of(Guid proposalId, AwardCondition condition, Guid pi, DateTimeOffset now) =>
        new() { ProposalId = proposalId, Key = condition.Key, Title = condition.Title, Text = condition.Text, AcceptedByUserId = pi, AcceptedAt = now };
}

namespace Meta.ComputeAccess.Review;

/// <summary>An accepted award as the allocation module receives it.</summary>
public sealed record AcceptedAward(
    Guid ProposalId,
    Guid CallId,
    Guid PiUserId,
    string Title,
    IReadOnlyList<(Guid ClusterId, decimal Hours)> Hours,
    DateOnly AwardStart,
    DateOnly AwardEnd,
    DateTimeOffset AcceptedAt);

/// <summary>
/// The hand-over from review to allocation: called when the PI accepts an award, inside the same unit of work
/// (before SaveChanges), so the acceptance and whatever the handler adds (an allocation, its first ledger grant)
/// commit together or not at all. The allocation module implements it; until then <see cref="NoAwardAcceptanceHandler"/>.
/// </summary>
public interface IAwardAcceptanceHandler
{
    Task OnAwardAcceptedAsync(AcceptedAward award, CancellationToken cancellationToken);
}

/// <summary>The default until the allocation module registers its handler: the acceptance is recorded and nothing else happens.</summary>
public sealed class NoAwardAcceptanceHandler : IAwardAcceptanceHandler
{
    public Task OnAwardAcceptedAsync(AcceptedAward award, CancellationToken cancellationToken) => Task.CompletedTask;
}

namespace Meta.ComputeAccess.Review;

/// <summary>Which step of an award a gate is asked about (the refusal says which).</summary>
public enum AwardStep
{
    Record,
    Release,
}

/// <summary>
/// Compliance's say before an award is recorded or released: screens the teams again and refuses
/// (<see cref="DomainException"/>, with a message for the admin) while a compliance hit on any of them is open or
/// blocked. Declared here, implemented by the compliance module (<c>ComplianceAwardGate</c>), so Review never names it.
/// </summary>
public interface IAwardGate
{
    Task EnsureClearAsync(IReadOnlyCollection<Guid> proposalIds, AwardStep step, CancellationToken cancellationToken);
}

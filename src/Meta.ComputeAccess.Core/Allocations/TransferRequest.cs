namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// A PI's request to move unused hours of the allocation from one cluster to another (one it has, or one it has not yet),
/// and the admin's decision. Hours are in the program's unit, so they keep their worth across the clusters' rates: 100
/// units are 100 H100-hours on an H100 cluster and 200 MTIA-hours on a cluster charging MTIA at 0.5.
/// </summary>
public sealed class TransferRequest
{
    public Guid Id { get; private set; }

    public Guid AllocationId { get; private set; }

    public Guid FromClusterId { get; private set; }

    public Guid ToClusterId { get; private set; }

    public decimal Hours { get; private set; }

    public string Justification { get; private set; } = "";

    public Guid RequestedBy { get; private set; }

    public DateTimeOffset RequestedAt { get; private set; }

    public SupplementStatus Status { get; private set; }

    public Guid? DecidedBy { get; private set; }

    public DateTimeOffset? DecidedAt { get; private set; }

    public string? DecisionMessage { get; private set; }

    private TransferRequest()
    {
    }

    internal static TransferRequest Create(Allocation allocation, Guid fromClusterId, Guid toClusterId, decimal hours, string? justification, Guid requester, DateTimeOffset now)
    {
        if (!allocation.MayRequestSupplement(requester))
        {
            throw new DomainException("Only the allocation's PI can ask to move its hours.");
        }
        allocation.RequireOpen();
        Allocation.CheckTransfer(fromClusterId, toClusterId, hours);
        var from = allocation.QuotaOn(fromClusterId);
        if (from.RemainingHours < hours)
        {
            throw new DomainException($"Only {(Math.Max(0, from.RemainingHours)).AsHours()} hours remain on the cluster to move them from.",
                new Dictionary<string, string> { ["Hours"] = "Ask for at most what remains." });
        }
        if (string.IsNullOrWhiteSpace(justification) || justification.Trim().Length < 20 || justification.Trim().Length > 4000)
        {
            throw new DomainException("Explain in a few sentences (20 to 4,000 characters) why the hours should move.",
                new Dictionary<string, string> { ["Justification"] = "At least 20 characters." });
        }
        return new TransferRequest
        {
            Id = Guid.CreateVersion7(now),
            AllocationId = allocation.Id,
            FromClusterId = fromClusterId,
            ToClusterId = toClusterId,
            Hours = hours,
            Justification = justification.Trim(),
            RequestedBy = requester,
            RequestedAt = now,
            Status = SupplementStatus.Pending,
        };
    }

    internal void Approve(string? message, Guid admin, DateTimeOffset now)
    {
        CheckPending();
        Status = SupplementStatus.Approved;
        Decide(message, admin, now);
    }

    internal void Decline(string? message, Guid admin, DateTimeOffset now)
    {
        CheckPending();
        if (string.IsNullOrWhiteSpace(message))
        {
            throw new DomainException("Tell the PI why the transfer is declined.");
        }
        Status = SupplementStatus.Declined;
        Decide(message, admin, now);
    }

    private void Decide(string? message, Guid admin, DateTimeOffset now)
    {
        DecisionMessage = string.IsNullOrWhiteSpace(message) ? null : message.Trim()[..Math.Min(message.Trim().Length, 2000)];
        DecidedBy = admin;
        DecidedAt = now;
    }

    private void CheckPending()
    {
        if (Status != SupplementStatus.Pending)
        {
            throw new DomainException($"This transfer request was already {Status.ToString().ToLowerInvariant()}.");
        }
    }
}

namespace Meta.ComputeAccess.Allocations;

public enum SupplementStatus
{
    Pending,
    Approved,
    Declined,
}

/// <summary>A PI's request for more hours on one cluster and/or a later end date, and the admin's decision.</summary>
public sealed class SupplementRequest
{
    public Guid Id { get; private set; }

    public Guid AllocationId { get; private set; }

    /// <summary>The cluster the extra hours are for; null for an extension only.</summary>
    public Guid? ClusterId { get; private set; }

    public decimal? RequestedHours { get; private set; }

    public DateOnly? RequestedEndDate { get; private set; }

    public string Justification { get; private set; } = "";

    public Guid RequestedBy { get; private set; }

    public DateTimeOffset RequestedAt { get; private set; }

    public SupplementStatus Status { get; private set; }

    public decimal? ApprovedHours { get; private set; }

    public DateOnly? ApprovedEndDate { get; private set; }

    public Guid? DecidedBy { get; private set; }

    public DateTimeOffset? DecidedAt { get; private set; }

    public string? DecisionMessage { get; private set; }

    private SupplementRequest()
    {
    }

    internal static SupplementRequest Create(Allocation allocation, Guid? clusterId, decimal? hours, DateOnly? endDate, string justification, Guid requester, DateTimeOffset now)
    {
        if (!allocation.MayRequestSupplement(requester))
        {
            throw new DomainException("Only the allocation's PI can ask for more hours or time.");
        }
        if (!allocation.IsOpen)
        {
            throw new DomainException("Supplements and extensions can be requested only while the allocation is open.");
        }
        if ((hours is null || hours == 0) && endDate is null)
        {
            throw new DomainException("Ask for more hours, a later end date, or both.");
        }
        if (hours is { } h && (h <= 0 || h > 10_000_000))
        {
            throw new DomainException("The extra hours must be a positive number.");
        }
        if (hours is > 0 && (clusterId is null || allocation.Quotas.All(q => q.ClusterId != clusterId)))
        {
            throw new DomainException("Choose one of the allocation's clusters for the extra hours.");
        }
        if (endDate is { } end && end <= allocation.EndDate)
        {
            throw new DomainException($"The new end date must be after the current one ({allocation.EndDate:yyyy-MM-dd}).");
        }
        if (string.IsNullOrWhiteSpace(justification) || justification.Trim().Length < 20)
        {
            throw new DomainException("Explain in a few sentences (at least 20 characters) why the project needs this.");
        }
        return new SupplementRequest
        {
            Id = Guid.CreateVersion7(now),
            AllocationId = allocation.Id,
            ClusterId = hours is > 0 ? clusterId : null,
            RequestedHours = hours is > 0 ? hours : null,
            RequestedEndDate = endDate,
            Justification = justification.Trim(),
            RequestedBy = requester,
            RequestedAt = now,
            Status = SupplementStatus.Pending,
        };
    }

    internal void Approve(decimal? hours, DateOnly? endDate, string? message, Guid admin, DateTimeOffset now)
    {
        CheckPending();
        if (hours is { } h && (h < 0 || RequestedHours is null || h > RequestedHours))
        {
            throw new DomainException($"Approve at most the {(RequestedHours ?? 0).AsHours()} GPU-hours requested.");
        }
        if (endDate is not null && RequestedEndDate is null)
        {
            throw new DomainException("This request did not ask for an extension.");
        }
        if ((hours ?? 0) == 0 && endDate is null)
        {
            throw new DomainException("Approve some hours or the new end date, or decline the request.");
        }
        Status = SupplementStatus.Approved;
        ApprovedHours = hours is > 0 ? hours : null;
        ApprovedEndDate = endDate;
        Decide(message, admin, now);
    }

    internal void Decline(string message, Guid admin, DateTimeOffset now)
    {
        CheckPending();
        if (string.IsNullOrWhiteSpace(message))
        {
            throw new DomainException("Tell the PI why the request is declined.");
        }
        Status = SupplementStatus.Declined;
        Decide(message, admin, now);
    }

    private void Decide(string? message, Guid admin, DateTimeOffset now)
    {
        DecisionMessage = string.IsNullOrWhiteSpace(message) ? null : message.Trim();
        DecidedBy = admin;
        DecidedAt = now;
    }

    private void CheckPending()
    {
        if (Status != SupplementStatus.Pending)
        {
            throw new DomainException($"This request was already {Status.ToString().ToLowerInvariant()}.");
        }
    }
}

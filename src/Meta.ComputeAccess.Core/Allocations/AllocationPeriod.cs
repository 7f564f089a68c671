namespace Meta.ComputeAccess.Allocations;

/// <summary>A span of time whose cluster capacity is handed out together, for example "2027 H1".</summary>
public sealed class AllocationPeriod
{
    public Guid Id { get; private set; }

    public string Name { get; private set; } = "";

    public DateOnly StartDate { get; private set; }

    /// <summary>Inclusive.</summary>
    public DateOnly EndDate { get; private set; }

    private AllocationPeriod()
    {
    }

    public static AllocationPeriod Create(string name, DateOnly start, DateOnly end, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > 64)
        {
            throw new DomainException("A period needs a name of at most 64 characters, for example \"2027 H1\".");
        }
        if (end <= start)
        {
            throw new DomainException("A period must end after it starts.");
        }
        return new AllocationPeriod { Id = Guid.CreateVersion7(now), Name = name.Trim(), StartDate = start, EndDate = end };
    }

    public bool Contains(DateOnly date) => date >= StartDate && date <= EndDate;
}

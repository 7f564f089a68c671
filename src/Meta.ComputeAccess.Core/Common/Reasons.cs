namespace Meta.ComputeAccess;

/// <summary>An admin's reason for a change, as the histories keep it.</summary>
public static class Reasons
{
    /// <summary>The reason trimmed; refused when empty or longer than <paramref name="maxLength"/>.</summary>
    /// <param name="keptIn">Where the reason is kept, for the message: "the allocation's history".</param>
    public static string Require(string? reason, int maxLength, string keptIn)
    {
        var trimmed = (reason ?? "").Trim();
        if (trimmed.Length == 0)
        {
            throw new DomainException($"Give a reason; it is kept in {keptIn}.");
        }
        if (trimmed.Length > maxLength)
        {
            throw new DomainException($"Keep the reason to {maxLength} characters; it is kept in {keptIn}.");
        }
        return trimmed;
    }
}

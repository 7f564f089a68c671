namespace Meta.ComputeAccess.Review;

/// <summary>The default award on one cluster: the median of the reviewers' recommendations, within the technical cap and the request.</summary>
public static class AwardDefaults
{
    public static decimal Hours(decimal requested, decimal? cap, IReadOnlyCollection<decimal> recommendations)
    {
        var basis = recommendations.Count == 0 ? requested : Median(recommendations);
        var limit = Math.Min(requested, cap ?? requested);
        return decimal.Round(Math.Min(basis, limit), 2);
    }

    public static decimal Median(IReadOnlyCollection<decimal> values)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException("The median of nothing is undefined.", nameof(values));
        }
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

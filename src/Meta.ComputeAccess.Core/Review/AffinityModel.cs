using System.Globalization;
using System.Text;

namespace Meta.ComputeAccess.Review;

/// <summary>A reviewer's bid on a proposal. <see cref="Conflict"/> is a hard exclusion, not a low preference.</summary>
public enum Bid
{
    Eager,
    Willing,
    Neutral,
    Unwilling,
    Conflict,
}

/// <summary>
/// Weights of the affinity formula. The defaults make an eager bid worth more than any keyword
/// overlap (Jaccard is at most 1), so a reviewer's own wish outranks the keyword heuristic.
/// </summary>
public sealed record AffinitySettings(
    double Eager = 2.0,
    double Willing = 1.0,
    double Neutral = 0.0,
    double Unwilling = -2.0,
    double KeywordWeight = 1.0);

/// <summary>The affinity of one (reviewer, proposal) pair and why.</summary>
public sealed record Affinity(double Value, bool IsExcluded, string Explanation, IReadOnlyList<string> SharedKeywords);

/// <summary>
/// Affinity = bid weight + KeywordWeight × Jaccard(reviewer keywords, proposal keywords), where
/// Jaccard = |shared| / |union| of normalized keywords (0 when either side is empty).
/// A missing bid counts as neutral; a conflict bid excludes the pair.
/// </summary>
public sealed class AffinityModel(AffinitySettings settings)
{
    public AffinityModel() : this(new AffinitySettings())
    {
    }

    public AffinitySettings Settings { get; } = settings ?? throw new ArgumentNullException(nameof(settings));

    public Affinity Compute(Bid? bid, IEnumerable<string> reviewerKeywords, IEnumerable<string> proposalKeywords)
    {
        ArgumentNullException.ThrowIfNull(reviewerKeywords);
        ArgumentNullException.ThrowIfNull(proposalKeywords);

        if (bid == Bid.Conflict)
        {
            return new Affinity(0, true, "bid conflict: excluded", []);
        }

        var reviewerSet = NormalizeKeywords(reviewerKeywords);
        var proposalSet = NormalizeKeywords(proposalKeywords);
        var shared = reviewerSet.Where(proposalSet.Contains).Order(StringComparer.Ordinal).ToList();
        var unionCount = reviewerSet.Count + proposalSet.Count - shared.Count;
        var jaccard = unionCount == 0 ? 0.0 : (double)shared.Count / unionCount;

        var bidWeight = bid switch
        {
            Bid.Eager => Settings.Eager,
            Bid.Willing => Settings.Willing,
            Bid.Unwilling => Settings.Unwilling,
            _ => Settings.Neutral,
        };
        var value = bidWeight + Settings.KeywordWeight * jaccard;

        var bidText = bid is null ? "no bid" : "bid " + bid.Value.ToString().ToLowerInvariant();
        var keywordText = shared.Count switch
        {
            0 => "no shared keywords",
            1 => "1 shared keyword: " + shared[0],
            _ => $"{shared.Count} shared keywords: {string.Join(", ", shared)}",
        };
        return new Affinity(value, false, $"{bidText}; {keywordText}", shared);
    }

    /// <summary>
    /// Lower-case, accents kept, hyphens/underscores/repeated spaces read as one space:
    /// "Large-Language  Models" and "large language models" are one keyword.
    /// </summary>
    public static string NormalizeKeyword(string keyword)
    {
        ArgumentNullException.ThrowIfNull(keyword);
        var builder = new StringBuilder(keyword.Length);
        var pendingSpace = false;
        foreach (var c in keyword.Normalize(NormalizationForm.FormC))
        {
            if (char.IsWhiteSpace(c) || c is '-' or '_' or '/')
            {
                pendingSpace = true;
                continue;
            }
            if (pendingSpace && builder.Length > 0)
            {
                builder.Append(' ');
            }
            pendingSpace = false;
            builder.Append(char.ToLower(c, CultureInfo.InvariantCulture));
        }
        return builder.ToString();
    }

    private static HashSet<string> NormalizeKeywords(IEnumerable<string> keywords)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var keyword in keywords)
        {
            var normalized = NormalizeKeyword(keyword);
            if (normalized.Length > 0)
            {
                set.Add(normalized);
            }
        }
        return set;
    }
}

using FuzzySharp;

namespace Meta.ComputeAccess.Compliance;

/// <summary>
/// How alike two names are, 0–100, after <see cref="NameNormalizer"/>. Words are compared with FuzzySharp's
/// Levenshtein ratio and paired regardless of their order; the score is the best of three readings:
/// <list type="bullet">
/// <item>every word of both names paired with its most similar partner, weighted by length (unpaired words count 0);</item>
/// <item>the words run together (catches "Abdul Rahman" against "Abdulrahman");</item>
/// <item>the shorter name found inside the longer one ("John Smith" in "John Michael Smith", "Huawei" in "Huawei
/// Technologies"), counted only when the shorter name has two words or more, or one of at least five letters against
/// at most three, so that a lone "Li" or "Smith" does not match every longer name.</item>
/// </list>
/// An initial ("J") stands for a word of the other name that starts with it ("John").
/// </summary>
public static class NameMatcher
{
    /// <summary>The score of two normalised names (sorted words joined by spaces, as stored).</summary>
    public static int Score(string normalizedA, string normalizedB)
    {
        if (normalizedA.Length == 0 || normalizedB.Length == 0)
        {
            return 0;
        }
        if (string.Equals(normalizedA, normalizedB, StringComparison.Ordinal))
        {
            return 100;
        }
        var a = normalizedA.Split(' ');
        var b = normalizedB.Split(' ');
        ExpandInitials(a, b);
        ExpandInitials(b, a);
        var score = Math.Max(Paired(a, b, bothSides: true), Fuzz.Ratio(string.Concat(a.Order(StringComparer.Ordinal)), string.Concat(b.Order(StringComparer.Ordinal))));
        var (shorter, longer) = a.Length <= b.Length ? (a, b) : (b, a);
        if (shorter.Length >= 2 || (shorter[0].Length >= 5 && longer.Length <= 3))
        {
            score = Math.Max(score, Paired(shorter, longer, bothSides: false));
        }
        return score;
    }

    /// <summary>
    /// Pairs each word of <paramref name="a"/> with its most similar unused word of <paramref name="b"/> (best pairs
    /// first) and returns the length-weighted mean similarity: over both names' letters, or over <paramref name="a"/>'s only.
    /// </summary>
    private static int Paired(string[] a, string[] b, bool bothSides)
    {
        var pairs = new List<(int Score, int I, int J)>(a.Length * b.Length);
        for (var i = 0; i < a.Length; i++)
        {
            for (var j = 0; j < b.Length; j++)
            {
                pairs.Add((Fuzz.Ratio(a[i], b[j]), i, j));
            }
        }
        pairs.Sort((x, y) => y.Score.CompareTo(x.Score));
        var usedA = new bool[a.Length];
        var usedB = new bool[b.Length];
        double weighted = 0;
        foreach (var (score, i, j) in pairs)
        {
            if (usedA[i] || usedB[j])
            {
                continue;
            }
            usedA[i] = usedB[j] = true;
            weighted += score * (bothSides ? a[i].Length + b[j].Length : a[i].Length);
        }
        var letters = a.Sum(w => w.Length) + (bothSides ? b.Sum(w => w.Length) : 0);
        return (int)Math.Round(weighted / letters, MidpointRounding.AwayFromZero);
    }

    /// <summary>Replaces each one-letter word of <paramref name="words"/> by a longer word of <paramref name="other"/> with that first letter, if one is free.</summary>
    private static void ExpandInitials(string[] words, string[] other)
    {
        var taken = new HashSet<string>(words, StringComparer.Ordinal);
        for (var i = 0; i < words.Length; i++)
        {
            if (words[i].Length != 1)
            {
                continue;
            }
            var initial = words[i][0];
            if (other.FirstOrDefault(w => w.Length > 1 && w[0] == initial && !taken.Contains(w)) is { } full)
            {
                words[i] = full;
                taken.Add(full);
            }
        }
    }
}

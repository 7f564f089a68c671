using System.Globalization;

namespace Meta.ComputeAccess;

/// <summary>Counts as people read them: "1 decision", "3 decisions", "0 decisions"; never "1 decisions" or "decision(s)".</summary>
public static class English
{
    /// <param name="plural">The plural when it is not <paramref name="singular"/> + "s" ("1 proposal short", "2 proposals short" need none).</param>
    public static string Count(int count, string singular, string? plural = null) =>
        count.ToString("N0", CultureInfo.InvariantCulture) + " " + (count == 1 ? singular : plural ?? singular + "s");

    /// <summary>"a", "a and b", "a, b and c".</summary>
    public static string List(IReadOnlyList<string> items) =>
        items.Count <= 1 ? string.Concat(items) : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1];
}

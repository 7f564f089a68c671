using System.Globalization;

namespace Meta.ComputeAccess.Identity;

/// <summary>ISO 3166-1 alpha-2 countries, named in English, taken from the platform's region data.</summary>
public static class Countries
{
    private static readonly Lazy<IReadOnlyList<(string Code, string Name)>> List = new(Build);

    public static IReadOnlyList<(string Code, string Name)> All => List.Value;

    public static bool IsKnown(string? code) =>
        code is { Length: 2 } && All.Any(c => string.Equals(c.Code, code, StringComparison.OrdinalIgnoreCase));

    public static string NameOf(string? code) =>
        All.FirstOrDefault(c => string.Equals(c.Code, code, StringComparison.OrdinalIgnoreCase)).Name ?? code ?? "";

    private static IReadOnlyList<(string Code, string Name)> Build()
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var culture in CultureInfo.GetCultures(CultureTypes.SpecificCultures))
        {
            try
            {
                var region = new RegionInfo(culture.Name);
                // Two letters and not a numeric or macro region (001, 150, 419...).
                if (region.TwoLetterISORegionName.Length == 2 && char.IsAsciiLetter(region.TwoLetterISORegionName[0]))
                {
                    seen.TryAdd(region.TwoLetterISORegionName, region.EnglishName);
                }
            }
            catch (ArgumentException)
            {
                // Cultures without a region (neutral or custom) are skipped.
            }
        }
        return [.. seen.Select(p => (p.Key, p.Value)).OrderBy(p => p.Value, StringComparer.Ordinal)];
    }
}

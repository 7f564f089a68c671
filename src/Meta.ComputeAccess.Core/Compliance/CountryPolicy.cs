using Meta.ComputeAccess.Identity;

namespace Meta.ComputeAccess.Compliance;

/// <summary>
/// The country rules that apply to one call: the program's, plus the call's own, which can only make a country
/// stricter (a call cannot open what the program embargoes). Countries without a rule are open.
/// </summary>
public sealed class CountryPolicy(IReadOnlyDictionary<string, CountryLevel> program, string? callTitle = null, IReadOnlyCollection<string>? callEmbargoed = null, IReadOnlyCollection<string>? callRestricted = null)
{
    /// <summary>How <paramref name="country"/> is ruled, and by which rule ("the program's rule" or the call's).</summary>
    public (CountryLevel Level, string Rule) Of(string? country)
    {
        if (string.IsNullOrEmpty(country))
        {
            return (CountryLevel.Open, "");
        }
        var byProgram = program.GetValueOrDefault(country, CountryLevel.Open);
        var byCall = callEmbargoed?.Contains(country) == true ? CountryLevel.Embargoed
            : callRestricted?.Contains(country) == true ? CountryLevel.Restricted
            : CountryLevel.Open;
        return byCall > byProgram
            ? (byCall, $"the rule of the call {callTitle}")
            : (byProgram, byProgram == CountryLevel.Open ? "" : "the program's rule");
    }

    /// <summary>The sentence that names a rule (never the person): "the program's rule 'Iran: embargoed'".</summary>
    public static string Describe(string country, CountryLevel level, string rule) =>
        $"{rule} '{Countries.NameOf(country)}: {level.ToString().ToLowerInvariant()}'";
}

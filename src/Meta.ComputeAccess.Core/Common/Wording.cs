using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace Meta.ComputeAccess;

/// <summary>
/// How numbers and names reach people, in one place for pages, mail and audit lines: hours with thousands separators
/// and no needless decimals ("8,000", "7.5"), and enum values as words ("OpenWeights" → "Open weights"). An enum member
/// whose split name reads wrongly says how it should read with <see cref="DisplayAttribute.Name"/>
/// (<c>[Display(Name = "Declared by the reviewer")]</c>), which ASP.NET's select lists honour too.
/// </summary>
public static class Wording
{
    private static readonly ConcurrentDictionary<Enum, string> Words = new();

    /// <summary>GPU-hours for people: "8,000", "7.5", "0.25" (at most two decimals, none when whole).</summary>
    public static string AsHours(this decimal hours) => hours.ToString("#,0.##", CultureInfo.InvariantCulture);

    /// <summary>As <see cref="AsHours(decimal)"/>; "—" when there are none.</summary>
    public static string AsHours(this decimal? hours) => hours is { } h ? h.AsHours() : "—";

    /// <summary>A change of hours with its sign: "+5,000", "-12.5", "0".</summary>
    public static string AsSignedHours(this decimal hours) => hours.ToString("+#,0.##;-#,0.##;0", CultureInfo.InvariantCulture);

    /// <summary>An enum value as words in sentence case: "In review", "Same email domain"; flags joined: "Papers, open weights".</summary>
    public static string AsWords(this Enum value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Words.GetOrAdd(value, Compose);
    }

    /// <summary>As <see cref="AsWords"/>, for the middle of a sentence: "in review".</summary>
    public static string AsLowerWords(this Enum value)
    {
        var words = value.AsWords();
        return words.Length == 0 ? words : char.ToLowerInvariant(words[0]) + words[1..];
    }

    private static string Compose(Enum value)
    {
        var type = value.GetType();
        if (type.IsDefined(typeof(FlagsAttribute), inherit: false) && !Enum.IsDefined(type, value))
        {
            var set = Enum.GetValues(type).Cast<Enum>().Where(f => Convert.ToUInt64(f, CultureInfo.InvariantCulture) != 0 && value.HasFlag(f)).ToList();
            return string.Join(", ", set.Select((f, i) => i == 0 ? f.AsWords() : f.AsLowerWords()));
        }
        var name = value.ToString();
        if (type.GetField(name)?.GetCustomAttribute<DisplayAttribute>()?.Name is { } display)
        {
            return display;
        }
        var words = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (i > 0 && char.IsUpper(c) && !char.IsUpper(name[i - 1]))
            {
                words.Append(' ');
            }
            words.Append(i == 0 ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
        }
        return words.ToString();
    }
}

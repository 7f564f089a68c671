using System.Text;
using AnyAscii;

namespace Meta.ComputeAccess.Compliance;

/// <summary>
/// The one reading of a name for screening, used for list entries (stored with them) and for the people and
/// institutions screened alike: transliterated to ASCII (AnyAscii: diacritics, Cyrillic, Greek, CJK), lower case,
/// punctuation to spaces, honorifics and degrees dropped, legal-form suffixes (Ltd, GmbH, LLC …) dropped from the
/// ends, filler words (of, the, and) dropped, and the words sorted, so that "Prof. Dr. Müller, Hans" and
/// "Hans Mueller" differ only in the spelling of one word.
/// </summary>
/// <remarks>
/// Words that carry meaning in an institution's name stay: "University", "Institute", "Academy", "Technology".
/// Dropping them would make every "Harbin …" match "Harbin Institute of Technology".
/// </remarks>
public static class NameNormalizer
{
    /// <summary>Longest normalised name kept (a list's longest real names are well below).</summary>
    public const int MaxLength = 400;

    private static readonly HashSet<string> Honorifics = new(StringComparer.Ordinal)
    {
        "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "lord", "lady", "rev", "hon",
        "herr", "frau", "mme", "mlle", "sig", "sra", "srta", "sheikh", "shaikh", "haji", "hajji", "gen", "col", "capt",
    };

    private static readonly HashSet<string> Degrees = new(StringComparer.Ordinal) { "phd", "dphil", "md", "msc", "mba", "esq" };

    /// <summary>Legal forms, dropped at the end of a name (and the ones placed first, at its start).</summary>
    private static readonly HashSet<string> LegalForms = new(StringComparer.Ordinal)
    {
        "ltd", "limited", "llc", "llp", "lp", "inc", "incorporated", "co", "corp", "corporation", "company", "gmbh", "mbh",
        "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "plc", "pty", "pte", "oy", "oyj", "ab", "as", "asa",
        "kk", "jsc", "ojsc", "pjsc", "cjsc", "ooo", "zao", "oao", "pao", "ao", "tov", "fze", "fzco", "fzc", "sdn", "bhd",
    };

    private static readonly HashSet<string> LeadingLegalForms = new(StringComparer.Ordinal) { "ooo", "zao", "oao", "pao", "ao", "jsc", "ojsc", "pjsc", "cjsc", "tov", "pt" };

    private static readonly HashSet<string> Filler = new(StringComparer.Ordinal) { "the", "of", "and", "for", "de", "del", "la", "le", "der", "die", "das", "du", "des" };

    /// <summary>The normalised name: its words sorted and joined by single spaces; empty when nothing is left.</summary>
    public static string Normalize(string? name) => string.Join(' ', Tokens(name));

    /// <summary>The words of the normalised name, sorted.</summary>
    public static IReadOnlyList<string> Tokens(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return [];
        }
        var ascii = name.Transliterate();
        var cleaned = new StringBuilder(ascii.Length);
        foreach (var c in ascii)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                cleaned.Append(char.ToLowerInvariant(c));
            }
            else if (c is '\'' or '`')
            {
                // O'Brien and D`Souza are one word.
            }
            else if (c == '&')
            {
                cleaned.Append(" and ");
            }
            else
            {
                cleaned.Append(' ');
            }
        }
        var words = cleaned.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        TrimEnds(words);
        if (words.Any(w => !Filler.Contains(w)))
        {
            words.RemoveAll(Filler.Contains);
        }
        words.Sort(StringComparer.Ordinal);
        var total = 0;
        var kept = new List<string>(words.Count);
        foreach (var w in words)
        {
            total += w.Length + 1;
            if (total > MaxLength)
            {
                break;
            }
            kept.Add(w);
        }
        return kept;
    }

    /// <summary>Drops honorifics and leading legal forms from the start, degrees and legal forms from the end, never the last word.</summary>
    private static void TrimEnds(List<string> words)
    {
        while (words.Count > 1 && (Honorifics.Contains(words[0]) || LeadingLegalForms.Contains(words[0])))
        {
            words.RemoveAt(0);
        }
        while (words.Count > 1 && (Degrees.Contains(words[^1]) || LegalForms.Contains(words[^1])))
        {
            words.RemoveAt(words.Count - 1);
        }
    }
}

namespace Meta.ComputeAccess.Identity;

/// <summary>ORCID iD validation: 16 characters in four dashed groups, the last one an ISO 7064 11,2 check character.</summary>
public static class Orcid
{
    /// <summary>
    /// Accepts the bare iD or the https://orcid.org/ form, with or without dashes, and returns the canonical
    /// dashed form; returns false when the format or the checksum is wrong.
    /// </summary>
    public static bool TryNormalize(string? input, out string normalized)
    {
        normalized = "";
        if (string.IsNullOrWhiteSpace(input))
        {
            return false;
        }
        var s = input.Trim();
        foreach (var prefix in (string[])["https://orcid.org/", "http://orcid.org/", "orcid.org/"])
        {
            if (s.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                s = s[prefix.Length..];
                break;
            }
        }
        Span<char> digits = stackalloc char[16];
        var n = 0;
        foreach (var c in s)
        {
            if (c == '-')
            {
                continue;
            }
            if (n == 16)
            {
                return false;
            }
            var isLastX = n == 15 && (c == 'X' || c == 'x');
            if (!char.IsAsciiDigit(c) && !isLastX)
            {
                return false;
            }
            digits[n++] = char.ToUpperInvariant(c);
        }
        if (n != 16 || CheckCharacter(digits[..15]) != digits[15])
        {
            return false;
        }
        normalized = $"{digits[..4]}-{digits[4..8]}-{digits[8..12]}-{digits[12..16]}";
        return true;
    }

    public static bool IsValid(string? input) => TryNormalize(input, out _);

    private static char CheckCharacter(ReadOnlySpan<char> baseDigits)
    {
        var total = 0;
        foreach (var c in baseDigits)
        {
            total = (total + (c - '0')) * 2;
        }
        var result = (12 - (total % 11)) % 11;
        return result == 10 ? 'X' : (char)('0' + result);
    }
}

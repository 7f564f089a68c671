using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace Meta.ComputeAccess.Testing;

/// <summary>
/// RFC 6238 codes (HMAC-SHA1, 30-second steps, 6 digits) from a base32 shared key, as an authenticator app makes
/// them. Identity's authenticator provider reads the system clock, not the portal's TimeProvider, so codes are
/// made for the real time; it accepts codes up to 90 seconds either side.
/// </summary>
public static class Totp
{
    public static string Code(string base32Key) => Code(base32Key, DateTimeOffset.UtcNow);

    public static string Code(string base32Key, DateTimeOffset at) => CodeForStep(base32Key, at.ToUnixTimeSeconds() / 30);

    /// <summary>A 6-digit code that is wrong for every step the server accepts around now.</summary>
    public static string WrongCode(string base32Key)
    {
        var step = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 30;
        var valid = Enumerable.Range(-4, 9).Select(d => CodeForStep(base32Key, step + d)).ToHashSet();
        return Enumerable.Range(0, 20).Select(i => (111_111 * (i % 9 + 1)).ToString("D6", CultureInfo.InvariantCulture)).First(c => !valid.Contains(c));
    }

    private static string CodeForStep(string base32Key, long step)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
        var hash = HMACSHA1.HashData(FromBase32(base32Key), counter);
        var offset = hash[^1] & 0x0f;
        var binary = (BinaryPrimitives.ReadInt32BigEndian(hash.AsSpan(offset, 4)) & 0x7fffffff) % 1_000_000;
        return binary.ToString("D6", CultureInfo.InvariantCulture);
    }

    /// <summary>RFC 4648 base32; spaces (as the portal groups the key) and padding are ignored, case does not matter.</summary>
    public static byte[] FromBase32(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in text.ToUpperInvariant().Where(c => c is not (' ' or '=')))
        {
            var value = alphabet.IndexOf(c, StringComparison.Ordinal);
            if (value < 0)
            {
                throw new FormatException($"'{c}' is not a base32 character");
            }
            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes.Add((byte)(buffer >> bits));
                buffer &= (1 << bits) - 1;
            }
        }
        return [.. bytes];
    }
}

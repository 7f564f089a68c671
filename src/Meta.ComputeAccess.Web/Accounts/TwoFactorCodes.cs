namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>How codes typed by people are read: spaces (and in app codes, dashes) are ignored.</summary>
public static class TwoFactorCodes
{
    public const int RecoveryCodeCount = 10;

    /// <summary>An authenticator code as apps show it, "123 456" or "123-456", reduced to its digits' string.</summary>
    public static string Normalize(string? code) =>
        new([.. (code ?? "").Where(c => c is not (' ' or '-' or '\t'))]);

    public static bool IsAuthenticatorCode(string code) => code.Length == 6 && code.All(char.IsAsciiDigit);

    /// <summary>A recovery code keeps its dash ("ABCDE-FGHIJ"); case and spaces do not matter.</summary>
    public static string NormalizeRecoveryCode(string? code) =>
        new([.. (code ?? "").Where(c => !char.IsWhiteSpace(c)).Select(char.ToUpperInvariant)]);
}

using System.Text.Encodings.Web;
using QRCoder;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>
/// The otpauth:// URI that authenticator apps read (Key URI Format), and its QR code as a PNG data URI: the
/// content security policy allows <c>data:</c> images, and no script or inline style is needed to show it.
/// </summary>
public static class AuthenticatorQrCode
{
    public const string Issuer = "Meta Compute Access";

    public static string Uri(string email, string sharedKey)
    {
        var encoder = UrlEncoder.Default;
        return $"otpauth://totp/{encoder.Encode(Issuer)}:{encoder.Encode(email)}?secret={sharedKey}&issuer={encoder.Encode(Issuer)}&digits=6";
    }

    public static string PngDataUri(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        var png = new PngByteQRCode(data).GetGraphic(5);
        return "data:image/png;base64," + Convert.ToBase64String(png);
    }

    /// <summary>The key in groups of four, as people copy it by hand.</summary>
    public static string Grouped(string sharedKey)
    {
        var groups = sharedKey.ToLowerInvariant().Chunk(4).Select(c => new string(c));
        return string.Join(' ', groups);
    }
}

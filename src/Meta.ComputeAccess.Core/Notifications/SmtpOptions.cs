namespace Meta.ComputeAccess.Notifications;

/// <summary>Mail delivery settings, bound from the <c>Smtp</c> configuration section.</summary>
public sealed class SmtpOptions
{
    public const string Section = "Smtp";

    /// <summary>SMTP server host. When empty and <see cref="PickupDirectory"/> is set, mail is written there as .eml files.</summary>
    public string? Host { get; set; }

    public int Port { get; set; } = 25;

    /// <summary>None, StartTls, StartTlsWhenAvailable, SslOnConnect or Auto (MailKit's SecureSocketOptions).</summary>
    public string TlsMode { get; set; } = "StartTlsWhenAvailable";

    public string? UserName { get; set; }

    public string? Password { get; set; }

    public string FromAddress { get; set; } = "no-reply@localhost";

    public string FromName { get; set; } = "Meta Compute Access";

    /// <summary>A folder for .eml files, used in development when no SMTP host is configured.</summary>
    public string? PickupDirectory { get; set; }

    /// <summary>The portal's public base URL, used for links in mail (for example https://compute.example.org).</summary>
    public string PublicBaseUrl { get; set; } = "http://127.0.0.1:5080";
}

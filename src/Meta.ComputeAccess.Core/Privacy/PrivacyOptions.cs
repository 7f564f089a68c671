namespace Meta.ComputeAccess.Privacy;

/// <summary>Settings of people's data rights and retention (configuration section <c>Privacy</c>; docs/compliance.md).</summary>
public sealed class PrivacyOptions
{
    public const string Section = "Privacy";

    public const string Invalid = "Privacy settings out of range: DraftRetentionDays 30–3650, ArchivedAttachmentRetentionDays 30–3650, ExportsPerHour 1–100.";

    /// <summary>A draft nobody has saved for this many days is removed by <see cref="RetentionJob"/>.</summary>
    public int DraftRetentionDays { get; set; } = 365;

    /// <summary>Attachments of proposals in an archived call are removed this many days after the call closed.</summary>
    public int ArchivedAttachmentRetentionDays { get; set; } = 730;

    /// <summary>How many times a person may download their data per hour (each download reads everything about them).</summary>
    public int ExportsPerHour { get; set; } = 5;

    public bool IsValid() =>
        DraftRetentionDays is >= 30 and <= 3650
        && ArchivedAttachmentRetentionDays is >= 30 and <= 3650
        && ExportsPerHour is >= 1 and <= 100;
}

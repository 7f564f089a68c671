namespace Meta.ComputeAccess;

/// <summary>
/// What the portal keeps as text: no control characters (escape sequences, bells, NULs: they would reach terminals,
/// logs, mail and CSV readers as commands), except line breaks and tabs in text that has lines.
/// </summary>
public static class PlainText
{
    /// <summary>Whether <paramref name="c"/> may stand in text of several lines (a paragraph, a reason, a narrative).</summary>
    public static bool AllowedInLines(char c) => !char.IsControl(c) || c is '\n' or '\r' or '\t';

    /// <summary>Whether the text of several lines holds a control character other than a line break or a tab.</summary>
    public static bool HasControlOutsideLines(string text) => !text.All(AllowedInLines);

    /// <summary>Whether text of one line (a name, a title, a filter) holds any control character, line breaks and tabs included.</summary>
    public static bool HasControl(string? text) => text is not null && text.Any(char.IsControl);

    /// <summary>
    /// Text of one line that comes from elsewhere (a browser's user agent, an identity provider's claim) with its control
    /// characters left out: kept as information, where text a person types is refused instead (<see cref="HasControl"/>).
    /// </summary>
    public static string WithoutControl(string text) => text.Any(char.IsControl) ? new string([.. text.Where(c => !char.IsControl(c))]) : text;
}

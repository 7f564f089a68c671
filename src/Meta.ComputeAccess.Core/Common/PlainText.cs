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
}

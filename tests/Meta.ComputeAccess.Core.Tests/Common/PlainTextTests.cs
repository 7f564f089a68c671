namespace Meta.ComputeAccess.Core.Tests.Common;

public sealed class PlainTextTests
{
    [Theory]
    [InlineData("A paragraph.\nAnother, after a blank line.\r\n\r\n\tIndented.")]
    [InlineData("Ünïcödé, emoji 🚀 and right-to-left ש")]
    [InlineData("")]
    public void Text_with_line_breaks_tabs_and_any_printable_character_is_plain(string text) =>
        Assert.False(PlainText.HasControlOutsideLines(text));

    [Theory]
    [InlineData("\u001b[31mred")]
    [InlineData("bell\u0007")]
    [InlineData("nul\u0000")]
    [InlineData("delete\u007f")]
    [InlineData("next line\u0085")]
    public void Escape_sequences_and_other_control_characters_are_not(string text) =>
        Assert.True(PlainText.HasControlOutsideLines(text));

    [Fact]
    public void The_rule_for_one_character_and_for_a_text_agree()
    {
        for (var c = '\0'; c < '\u00a0'; c++)
        {
            Assert.Equal(PlainText.AllowedInLines(c), !PlainText.HasControlOutsideLines(c.ToString()));
            Assert.Equal(!char.IsControl(c) || c is '\n' or '\r' or '\t', PlainText.AllowedInLines(c));
        }
    }

    [Theory]
    [InlineData("A title with Ünïcödé and 🚀", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("two\nlines", true)]
    [InlineData("a\ttab", true)]
    [InlineData("\u001b[31mred", true)]
    [InlineData("next line\u0085", true)]
    public void Text_of_one_line_allows_no_control_character_at_all(string? text, bool control) =>
        Assert.Equal(control, PlainText.HasControl(text));

    [Theory]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (X11; Linux x86_64)")]
    [InlineData("evil\u001b[2J\r\nagent\u0000", "evil[2Jagent")]
    [InlineData("\u0007\u0008", "")]
    public void Text_from_elsewhere_keeps_everything_but_its_control_characters(string text, string kept)
    {
        Assert.Equal(kept, PlainText.WithoutControl(text));
        Assert.False(PlainText.HasControl(PlainText.WithoutControl(text)));
    }
}

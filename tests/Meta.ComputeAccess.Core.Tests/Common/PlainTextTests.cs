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
}

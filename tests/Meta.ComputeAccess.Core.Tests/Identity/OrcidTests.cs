using Meta.ComputeAccess.Identity;

namespace Meta.ComputeAccess.Core.Tests.Identity;

public sealed class OrcidTests
{
    [Theory]
    [InlineData("0000-0002-1825-0097", "0000-0002-1825-0097")]
    [InlineData("https://orcid.org/0000-0001-5109-3700", "0000-0001-5109-3700")]
    [InlineData("0000000218250097", "0000-0002-1825-0097")]
    [InlineData("0000-0002-1694-233x", "0000-0002-1694-233X")]
    public void Valid_ids_are_accepted_in_their_usual_forms_and_normalized(string input, string expected)
    {
        Assert.True(Orcid.TryNormalize(input, out var normalized));
        Assert.Equal(expected, normalized);
    }

    [Theory]
    [InlineData("0000-0002-1825-0098")]
    [InlineData("0000-0002-1825-009")]
    [InlineData("0000-0002-1825-00977")]
    [InlineData("0000-0002-1825-X097")]
    [InlineData("https://evil.example/0000-0002-1825-0097")]
    [InlineData("")]
    [InlineData(null)]
    public void Wrong_check_digits_lengths_and_characters_are_refused(string? input) =>
        Assert.False(Orcid.IsValid(input));
}

using Meta.ComputeAccess.Compliance;

namespace Meta.ComputeAccess.Core.Tests.Compliance;

/// <summary>Names as screening reads and compares them, against the default threshold of <see cref="ComplianceOptions.MatchThreshold"/>.</summary>
public sealed class NameMatcherTests
{
    private static readonly int Threshold = new ComplianceOptions().MatchThreshold;

    private static int Score(string a, string b) => NameMatcher.Score(NameNormalizer.Normalize(a), NameNormalizer.Normalize(b));

    [Theory]
    [InlineData("José Müller", "jose muller")]
    [InlineData("Prof. Dr. Hans Müller, PhD", "hans muller")]
    [InlineData("MÜLLER, Hans", "hans muller")]
    [InlineData("Harbour Dynamics Trading Co., Ltd.", "dynamics harbour trading")]
    [InlineData("OOO Northwind", "northwind")]
    [InlineData("Seán O'Brien", "obrien sean")]
    [InlineData("Иван Сергеевич Волков", "ivan sergeevich volkov")]
    [InlineData("Bank of the East & West", "bank east west")]
    [InlineData("  ", "")]
    public void Normalising_drops_case_diacritics_punctuation_honorifics_and_legal_forms_and_sorts_the_words(string name, string expected) =>
        Assert.Equal(expected, NameNormalizer.Normalize(name));

    [Theory]
    [InlineData("Zoë Ångström", "Zoe Angstrom")]
    [InlineData("François Lefèvre", "FRANCOIS LEFEVRE")]
    public void Diacritics_do_not_lower_the_score(string a, string b) => Assert.Equal(100, Score(a, b));

    [Theory]
    [InlineData("SCHMITT Lukas", "Lukas Schmitt")]
    [InlineData("Volkov, Ivan Sergeyevich", "Ivan Sergeyevich Volkov")]
    [InlineData("Northwind Precision Instruments GmbH", "Precision Instruments Northwind")]
    public void Token_order_does_not_lower_the_score(string a, string b) => Assert.Equal(100, Score(a, b));

    [Theory]
    [InlineData("J. Smith", "John Smith")]
    [InlineData("I. S. Volkov", "Ivan Sergeyevich Volkov")]
    [InlineData("L Schmitt", "Lukas Schmitt")]
    public void An_initial_stands_for_a_name_with_that_first_letter(string a, string b) => Assert.True(Score(a, b) >= Threshold, $"{a} / {b}: {Score(a, b)}");

    [Theory]
    [InlineData("Иван Сергеевич Волков", "Ivan Sergeyevich Volkov")]
    [InlineData("Yevgeny Prigozhin", "Evgeniy Prigozhin")]
    [InlineData("Sergei Ivanov", "Sergey Ivanov")]
    [InlineData("Mohamed Salah", "Mohammed Salah")]
    [InlineData("Abdul Rahman", "Abdulrahman")]
    [InlineData("Mikhail Gorbachev", "Michail Gorbachev")]
    [InlineData("Lukas Schmidt", "SCHMITT Lukas")]
    [InlineData("Huawei Technologies Co., Ltd.", "Huawei Technologies")]
    public void Transliterated_and_spelled_variants_score_at_or_above_the_threshold(string a, string b) =>
        Assert.True(Score(a, b) >= Threshold, $"{a} / {b}: {Score(a, b)} below {Threshold}");

    [Theory]
    [InlineData("Lukas Schneider", "Lukas Schmitt")]
    [InlineData("Ivan Petrov", "Ivan Sergeyevich Volkov")]
    [InlineData("Harbour University", "Harbour Dynamics Trading Co., Ltd.")]
    [InlineData("Li", "Li Wei Chen")]
    [InlineData("Sergei Ivanenko", "Sergey Ivanov")]
    [InlineData("Mei Chen", "Wei Chen")]
    public void A_near_miss_scores_below_the_threshold(string a, string b) =>
        Assert.True(Score(a, b) < Threshold, $"{a} / {b}: {Score(a, b)} at or above {Threshold}");

    [Fact]
    public void The_score_is_symmetric_and_empty_names_never_match()
    {
        Assert.Equal(Score("Lukas Schmidt", "SCHMITT Lukas"), Score("SCHMITT Lukas", "Lukas Schmidt"));
        Assert.Equal(0, Score("", "Lukas Schmitt"));
        Assert.Equal(0, Score("", ""));
    }
}

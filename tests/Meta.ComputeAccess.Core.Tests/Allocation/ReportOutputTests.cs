using Meta.ComputeAccess.Allocations;

namespace Meta.ComputeAccess.Core.Tests.Allocation;

public sealed class ReportOutputTests
{
    [Theory]
    [InlineData("10.1145/3442188.3445922", "10.1145/3442188.3445922")]
    [InlineData("https://doi.org/10.5281/zenodo.1234567", "10.5281/zenodo.1234567")]
    [InlineData("doi:10.1000/xyz(123)", "10.1000/xyz(123)")]
    [InlineData("  https://dx.doi.org/10.1038/nphys1170 ", "10.1038/nphys1170")]
    [InlineData("https://doi.org/10.1002/%28SICI%291097", "10.1002/(SICI)1097")]
    public void A_doi_is_read_by_syntax_in_its_usual_spellings(string given, string doi) => Assert.Equal(doi, ReportOutput.ParseDoi(given));

    [Theory]
    [InlineData("")]
    [InlineData("11.1234/abc")]
    [InlineData("10.12/abc")]
    [InlineData("10.1234")]
    [InlineData("10.1234/")]
    [InlineData("10.1234/has space")]
    [InlineData("https://example.org/10.1234/abc")]
    [InlineData("javascript:alert(1)")]
    public void Text_that_is_not_a_doi_is_refused(string given) => Assert.Null(ReportOutput.ParseDoi(given));

    [Fact]
    public void A_doi_link_escapes_what_a_url_path_cannot_hold() =>
        Assert.Equal("https://doi.org/10.1002/%28SICI%291097%3C%3E", ReportOutput.DoiLink("10.1002/(SICI)1097<>"));

    [Theory]
    [InlineData("https://github.com/org/repo", true)]
    [InlineData("http://models.example.org/w", true)]
    [InlineData("javascript:alert(1)", false)]
    [InlineData("ftp://example.org/x", false)]
    [InlineData("//example.org/x", false)]
    [InlineData("https://example.org/a b", false)]
    [InlineData("not a url", false)]
    public void Weights_and_code_need_an_http_address(string given, bool valid) => Assert.Equal(valid, ReportOutput.ParseUrl(given) is not null);

    [Fact]
    public void A_report_refuses_a_short_narrative_and_each_bad_output_by_its_row_and_changes_nothing()
    {
        var report = ProgressReport.Request(Guid.NewGuid(), ProgressReportKind.Progress, new DateOnly(2027, 1, 1), DateTimeOffset.UnixEpoch);

        var refused = Assert.Throws<DomainException>(() => report.Submit("short", [
            new OutputInput(OutputKind.Dataset, "Data", "10.1/x", ""),
            new OutputInput(OutputKind.Code, "", "", ""),
            new OutputInput(OutputKind.ModelWeights, "Weights", "https://w.example.org", ""),
        ], Guid.NewGuid(), DateTimeOffset.UnixEpoch));

        Assert.Equal(["Narrative", "Outputs[0]", "Outputs[2]"], refused.Fields.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((ProgressReportStatus.Due, 0), (report.Status, report.Outputs.Count));
    }

    [Fact]
    public void Only_a_submitted_report_is_accepted_and_once()
    {
        var report = ProgressReport.Request(Guid.NewGuid(), ProgressReportKind.Final, new DateOnly(2027, 1, 1), DateTimeOffset.UnixEpoch);
        Assert.Throws<DomainException>(() => report.Accept(Guid.NewGuid(), DateTimeOffset.UnixEpoch));
        report.Submit(new string('n', 60), [], Guid.NewGuid(), DateTimeOffset.UnixEpoch);
        report.Accept(Guid.NewGuid(), DateTimeOffset.UnixEpoch);
        Assert.Equal(ProgressReportStatus.Accepted, report.Status);
        Assert.Throws<DomainException>(() => report.Accept(Guid.NewGuid(), DateTimeOffset.UnixEpoch));
    }
}

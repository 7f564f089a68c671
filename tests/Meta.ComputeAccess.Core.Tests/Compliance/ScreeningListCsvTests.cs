using System.Text;
using Meta.ComputeAccess.Compliance;

namespace Meta.ComputeAccess.Core.Tests.Compliance;

public sealed class ScreeningListCsvTests
{
    private static ParsedScreeningList Parse(string csv, ScreeningListFormat format = ScreeningListFormat.Auto, ScreeningColumnMap? columns = null) =>
        ScreeningListCsv.Parse(Encoding.UTF8.GetBytes(csv), format, 1_000, columns);

    [Fact]
    public void The_consolidated_screening_list_export_is_recognised_by_its_header()
    {
        var list = Parse(ComplianceDemoSeed.ListCsv);
        Assert.Equal(ScreeningListFormat.ConsolidatedScreeningList, list.Format);
        var schmitt = list.Rows[0];
        Assert.Equal(("demo-0001", ScreeningEntryKind.Person, "SCHMITT Lukas"), (schmitt.EntryId, schmitt.Kind, schmitt.Name));
        Assert.Equal(["L. Schmitt"], schmitt.AltNames);
        Assert.Equal(["RU"], schmitt.Countries);
        Assert.Equal(ScreeningEntryKind.Other, list.Rows.Single(r => r.Name == "SEA BREEZE").Kind);
    }

    [Fact]
    public void The_opensanctions_simple_export_is_recognised_by_its_header()
    {
        var list = Parse("""
            id,schema,name,aliases,birth_date,countries,addresses,identifiers,sanctions,phones,emails,dataset,first_seen,last_seen,last_change
            NK-abc,Person,Ivan Volkov,Иван Волков;I. Volkov,1970-01-15,ru,,,,,,EU Financial Sanctions,2024-01-01,2026-01-01,2026-01-01
            NK-def,Company,Northwind Precision Instruments,,,by;ru,,,,,,US OFAC SDN,2024-01-01,2026-01-01,2026-01-01
            """);
        Assert.Equal(ScreeningListFormat.OpenSanctions, list.Format);
        Assert.Equal(["Иван Волков", "I. Volkov"], list.Rows[0].AltNames);
        Assert.Equal(["BY", "RU"], list.Rows[1].Countries);
        Assert.Equal(ScreeningEntryKind.Organization, list.Rows[1].Kind);
        Assert.Equal("US OFAC SDN", list.Rows[1].SourceList);
    }

    [Fact]
    public void Columns_of_another_csv_are_mapped_by_their_header_names()
    {
        const string csv = """
            Ref No,Party,Also Known As,Nation,Programme
            7,Harbour Dynamics,HD Trading,United Arab Emirates,Local list
            """;
        var error = Assert.Throws<DomainException>(() => Parse(csv));
        Assert.Contains("names no entry id column", error.Message, StringComparison.Ordinal);

        var list = Parse(csv, ScreeningListFormat.Generic, new ScreeningColumnMap("ref no", "Party", "Also Known As", "Nation", "Programme"));
        var row = Assert.Single(list.Rows);
        Assert.Equal(("7", "Harbour Dynamics", "Local list"), (row.EntryId, row.Name, row.SourceList));
        Assert.Equal(["HD Trading"], row.AltNames);
        Assert.Equal(["AE"], row.Countries);
    }

    [Fact]
    public void A_mapped_header_that_is_not_in_the_file_is_named_in_the_refusal()
    {
        var error = Assert.Throws<DomainException>(() => Parse("id,name\n1,A\n", columns: new ScreeningColumnMap(Name: "full name")));
        Assert.Contains("no column 'full name' (mapped as the name)", error.Message, StringComparison.Ordinal);
        Assert.Contains("id, name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_with_bad_lines_is_refused_whole_with_the_lines_named()
    {
        var error = Assert.Throws<DomainException>(() => Parse("id,name\n1,Good\n2\n3,\n1,Twice\n4,\"open\n"));
        Assert.Contains("4 problems", error.Message, StringComparison.Ordinal);
        Assert.Contains("line 3: 1 fields where the header has 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("line 4: no name", error.Message, StringComparison.Ordinal);
        Assert.Contains("line 5: the entry id '1' appears twice", error.Message, StringComparison.Ordinal);
        Assert.Contains("never closed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_that_is_not_utf8_is_refused_with_the_line_and_the_fix()
    {
        var latin1 = Encoding.Latin1.GetBytes("id,name\n1,Jos\u00e9 M\u00fcller\n");
        var error = Assert.Throws<DomainException>(() => ScreeningListCsv.Parse(latin1, ScreeningListFormat.Auto, 10));
        Assert.Contains("not UTF-8", error.Message, StringComparison.Ordinal);
        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
        var utf16 = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("id,name\n1,A\n")).ToArray();
        Assert.Contains("UTF-16", Assert.Throws<DomainException>(() => ScreeningListCsv.Parse(utf16, ScreeningListFormat.Auto, 10)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void More_entries_than_an_import_takes_are_refused()
    {
        var csv = "id,name\n" + string.Concat(Enumerable.Range(1, 11).Select(i => $"{i},Name {i}\n"));
        var error = Assert.Throws<DomainException>(() => ScreeningListCsv.Parse(Encoding.UTF8.GetBytes(csv), ScreeningListFormat.Auto, 10));
        Assert.Contains("more than 10 entries", error.Message, StringComparison.Ordinal);
    }
}

using System.Globalization;
using System.Text;

namespace Meta.ComputeAccess.Web.Ui;

/// <summary>One cell: what people read, and the number behind it (for the chart and the CSV) when it is one.</summary>
public sealed record ReportCell(string Text, decimal? Value = null)
{
    /// <summary>The number as machines read it (chart, CSV): invariant, no thousands separators, no trailing zeros.</summary>
    public string? Raw => Value?.ToString("0.######", CultureInfo.InvariantCulture);

    public static ReportCell Of(string text) => new(text);

    public static ReportCell Count(int n) => new(n.ToString("#,0", CultureInfo.InvariantCulture), n);

    public static ReportCell Hours(decimal hours) => new(hours.AsHours(), hours);

    public static ReportCell Percent(decimal? percent) => percent is { } p ? new($"{p.ToString("0.#", CultureInfo.InvariantCulture)} %", p) : new("—");

    public static ReportCell Days(double? days) => days is { } d ? new(d.ToString("0.#", CultureInfo.InvariantCulture), (decimal)d) : new("—");
}

/// <summary>
/// A figure of a report as a table: the page shows it (with a chart drawn from it by <c>reports.js</c> from the
/// <see cref="ChartColumns"/>), and the same table is its CSV, so chart, table and download never disagree.
/// </summary>
public sealed record ReportTable(string Id, string Title, string Description, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<ReportCell>> Rows,
    IReadOnlyList<int> ChartColumns, string ChartType = "bar")
{
    /// <summary>RFC 4180 with a header line; numbers as plain invariant decimals, text escaped (<see cref="Csv.Escape"/>).</summary>
    public string ToCsv()
    {
        var csv = new StringBuilder();
        csv.AppendJoin(',', Columns.Select(Csv.Escape)).Append('\n');
        foreach (var row in Rows)
        {
            csv.AppendJoin(',', row.Select(c => c.Raw ?? Csv.Escape(c.Text))).Append('\n');
        }
        return csv.ToString();
    }
}

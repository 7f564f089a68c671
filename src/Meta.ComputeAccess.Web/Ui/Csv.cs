namespace Meta.ComputeAccess.Web.Ui;

public static class Csv
{
    /// <summary>
    /// Quotes a field per RFC 4180 and defuses spreadsheet formulas (a leading =, +, - or @ is prefixed with ').
    /// </summary>
    public static string Escape(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}

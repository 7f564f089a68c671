using System.Globalization;
using System.Text;
using Meta.ComputeAccess.Allocations;
using Microsoft.AspNetCore.Html;

namespace Meta.ComputeAccess.Web.Ui;

/// <summary>
/// Charts as server-rendered SVG (the CSP forbids inline scripts and styles; SVG presentation attributes are fine).
/// Only numbers and encoded labels go into the markup.
/// </summary>
public static class SvgCharts
{
    private static string N(decimal v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Used GPU-hours per day against the straight-line pace from the start to the end date.</summary>
    public static IHtmlContent BurnDown(IReadOnlyList<BurnDownPoint> points, decimal granted, string label)
    {
        const int width = 640, height = 240, left = 56, bottom = 28, top = 12, right = 12;
        if (points.Count < 2)
        {
            return HtmlString.Empty;
        }
        var max = Math.Max(granted, points.Max(p => p.Used ?? 0));
        max = max <= 0 ? 1 : max;
        decimal X(int i) => left + (width - left - right) * (decimal)i / (points.Count - 1);
        decimal Y(decimal v) => top + (height - top - bottom) * (1 - v / max);
        var ideal = string.Join(' ', points.Select((p, i) => $"{N(X(i))},{N(Y(p.Ideal))}"));
        var used = string.Join(' ', points.Select((p, i) => (p, i)).Where(x => x.p.Used is not null).Select(x => $"{N(X(x.i))},{N(Y(x.p.Used!.Value))}"));
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{System.Net.WebUtility.HtmlEncode(label)}\" xmlns=\"http://www.w3.org/2000/svg\">");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{height - bottom}\" x2=\"{width - right}\" y2=\"{height - bottom}\" stroke=\"#adb5bd\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{height - bottom}\" stroke=\"#adb5bd\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 4}\" y=\"{top + 10}\" text-anchor=\"end\" font-size=\"11\">{max.AsHours()}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 4}\" y=\"{height - bottom}\" text-anchor=\"end\" font-size=\"11\">0</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"{height - 8}\" font-size=\"11\">{points[0].Date:yyyy-MM-dd}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{width - right}\" y=\"{height - 8}\" text-anchor=\"end\" font-size=\"11\">{points[^1].Date:yyyy-MM-dd}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{ideal}\" fill=\"none\" stroke=\"#6c757d\" stroke-dasharray=\"6 4\"/>");
        if (used.Length > 0)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{used}\" fill=\"none\" stroke=\"#0d6efd\" stroke-width=\"2\"/>");
        }
        svg.Append("</svg>");
        return new HtmlString(svg.ToString());
    }

    /// <summary>
    /// A burn-down small enough for a table row (no axes): used so far against the straight-line pace, with a dot at
    /// today. Its words are in <paramref name="label"/>, since a sparkline has no labels of its own.
    /// </summary>
    public static IHtmlContent Sparkline(IReadOnlyList<BurnDownPoint> points, decimal granted, string label)
    {
        const int width = 120, height = 28, pad = 2;
        if (points.Count < 2)
        {
            return HtmlString.Empty;
        }
        var max = Math.Max(granted, points.Max(p => p.Used ?? 0));
        max = max <= 0 ? 1 : max;
        decimal X(int i) => pad + (width - 2 * pad) * (decimal)i / (points.Count - 1);
        decimal Y(decimal v) => pad + (height - 2 * pad) * (1 - v / max);
        var used = points.Select((p, i) => (p, i)).Where(x => x.p.Used is not null).ToList();
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"sparkline\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{System.Net.WebUtility.HtmlEncode(label)}\" xmlns=\"http://www.w3.org/2000/svg\">");
        svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{N(X(0))},{N(Y(points[0].Ideal))} {N(X(points.Count - 1))},{N(Y(points[^1].Ideal))}\" fill=\"none\" stroke=\"#6c757d\" stroke-dasharray=\"3 2\"/>");
        if (used.Count > 0)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{string.Join(' ', used.Select(x => $"{N(X(x.i))},{N(Y(x.p.Used!.Value))}"))}\" fill=\"none\" stroke=\"#0d6efd\" stroke-width=\"2\"/>");
            var (last, at) = used[^1];
            svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{N(X(at))}\" cy=\"{N(Y(last.Used!.Value))}\" r=\"2.5\" fill=\"#0d6efd\"/>");
        }
        svg.Append("</svg>");
        return new HtmlString(svg.ToString());
    }

    /// <summary>Horizontal bars per cluster: committed and used against what is grantable.</summary>
    public static IHtmlContent CapacityBars(IReadOnlyList<CapacityRow> rows)
    {
        const int width = 640, barHeight = 22, gap = 14, left = 140, right = 12;
        var height = rows.Count * (barHeight + gap) + gap;
        var max = Math.Max(1, rows.Max(r => Math.Max(r.Grantable, r.Committed)));
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"Committed and used GPU-hours per cluster\" xmlns=\"http://www.w3.org/2000/svg\">");
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            var y = gap + i * (barHeight + gap);
            decimal W(decimal v) => (width - left - right) * Math.Max(0, v) / max;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{y + 15}\" text-anchor=\"end\" font-size=\"12\">{System.Net.WebUtility.HtmlEncode(r.ClusterName)}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{y}\" width=\"{N(W(r.Grantable))}\" height=\"{barHeight}\" fill=\"#e9ecef\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{y}\" width=\"{N(W(r.Committed))}\" height=\"{barHeight}\" fill=\"#9ec5fe\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{y + 6}\" width=\"{N(W(r.Used))}\" height=\"{barHeight - 12}\" fill=\"#0d6efd\"/>");
        }
        svg.Append("</svg>");
        return new HtmlString(svg.ToString());
    }
}

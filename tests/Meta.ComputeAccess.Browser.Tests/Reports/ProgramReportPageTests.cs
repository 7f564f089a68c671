using Meta.ComputeAccess.Browser.Tests.Accessibility;
using Meta.ComputeAccess.Reports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Meta.ComputeAccess.Browser.Tests.Reports;

/// <summary>The program report in a real browser, over the demo program: charts drawn by Chart.js from tables a person can read.</summary>
public sealed class ProgramReportPageTests(DemoBrowserFixture portal) : IClassFixture<DemoBrowserFixture>
{
    [Fact]
    public async Task A_chart_is_drawn_from_its_table_and_the_table_reads_the_reports_figures()
    {
        var expected = await portal.WithScopeAsync(sp => sp.GetRequiredService<ProgramReports>().BuildAsync(ReportScope.Everything));
        var page = await portal.DemoPageAsync("admin@example.org");
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add(message.Text);
            }
        };

        await page.GotoAsync("/Admin/Reports");

        // A screen reader finds the table by its caption; its rows are the report's figures as people read them.
        var table = page.GetByRole(AriaRole.Table, new() { Name = "GPU-hours per cluster" });
        await Expect(table).ToBeVisibleAsync();
        var rows = table.Locator("tbody tr");
        Assert.NotEmpty(expected.HoursByCluster);
        await Expect(rows).ToHaveCountAsync(expected.HoursByCluster.Count);
        for (var i = 0; i < expected.HoursByCluster.Count; i++)
        {
            var r = expected.HoursByCluster[i];
            var cells = await rows.Nth(i).Locator("th, td").AllTextContentsAsync();
            Assert.Equal([r.Cluster, r.Requested.AsHours(), r.Recommended.AsHours(), r.Granted.AsHours(), r.Used.AsHours()], cells.Select(c => c.Trim()));
        }
        Assert.Contains(expected.HoursByCluster, r => r.Used > 0);

        // Chart.js (served from the portal) drew the chart from that table, within the CSP.
        var canvas = page.Locator("canvas[data-chart-table='hours-by-cluster-table']");
        await Expect(canvas).ToHaveAttributeAsync("data-chart-drawn", "true");
        var labels = await page.EvaluateAsync<string[]>("() => Chart.getChart(document.querySelector(\"canvas[data-chart-table='hours-by-cluster-table']\")).data.labels");
        Assert.Equal(expected.HoursByCluster.Select(r => r.Cluster), labels);
        var used = await page.EvaluateAsync<double?[]>("() => Chart.getChart(document.querySelector(\"canvas[data-chart-table='hours-by-cluster-table']\")).data.datasets[3].data");
        Assert.Equal(expected.HoursByCluster.Select(r => (double?)(double)r.Used), used);
        Assert.Empty(errors);
    }
}

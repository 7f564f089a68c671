using Meta.ComputeAccess.Reports;
using Meta.ComputeAccess.Web.Ui;

namespace Meta.ComputeAccess.Web.Pages.Admin.Reports;

/// <summary>The figures of a <see cref="ProgramReport"/> as the tables the page shows, charts and exports.</summary>
public static class ProgramReportTables
{
    private static readonly string[] CountColumns = ["Submitted", "Decided", "Awarded", "Success rate"];

    public static IReadOnlyList<ReportTable> From(ProgramReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return
        [
            Counts("submissions-by-month", "Submissions over time", "Proposals submitted per month (UTC), and what became of them.", "Month", report.ByMonth, "line"),
            Counts("by-call", "By call", "Success rate is awarded ÷ proposals with a released decision.", "Call", report.ByCall),
            Counts("by-field", "By research field", "The field the applicants chose.", "Research field", report.ByField),
            Counts("by-country", "By country", "The principal investigator's country (ISO code).", "Country", report.ByCountry),
            Counts("by-institution", "By institution", "The principal investigator's institution.", "Institution", report.ByInstitution),
            new("hours-by-cluster", "GPU-hours per cluster",
                "Requested in the proposals; recommended by reviewers (each proposal's mean over its reviews); granted to the allocations made from them (grants, supplements, transfers and adjustments); used by their jobs.",
                ["Cluster", "Requested", "Recommended", "Granted", "Used"],
                [.. report.HoursByCluster.Select(r => Row(ReportCell.Of(r.Cluster), ReportCell.Hours(r.Requested), ReportCell.Hours(r.Recommended), ReportCell.Hours(r.Granted), ReportCell.Hours(r.Used)))],
                [1, 2, 3, 4]),
            new("capacity", "Capacity committed and available", "Per allocation period and cluster: capacity, what may be granted (capacity × oversubscription − reserve), what is committed and what is free.",
                ["Period and cluster", "Capacity", "Grantable", "Committed", "Free"],
                [.. report.Capacity.Select(r => Row(ReportCell.Of($"{r.Period} · {r.Cluster}"), ReportCell.Hours(r.Capacity), ReportCell.Hours(r.Grantable), ReportCell.Hours(r.Committed), ReportCell.Hours(r.Free)))],
                [2, 3]),
            new("utilisation-distribution", "Utilisation distribution", "How many allocations have used which share of their granted hours.",
                ["Used of granted", "Allocations"],
                [.. report.UtilisationBands.Select(b => Row(ReportCell.Of(b.Label), ReportCell.Count(b.Allocations)))],
                [1]),
            new("utilisation", "Utilisation per allocation", "Used ÷ granted GPU-hours of each allocation.",
                ["Allocation", "Account", "State", "Granted", "Used", "Utilisation"],
                [.. report.Utilisation.Select(r => Row(ReportCell.Of(r.Title), ReportCell.Of(r.SlurmAccount), ReportCell.Of(r.State.AsWords()), ReportCell.Hours(r.Granted), ReportCell.Hours(r.Used), ReportCell.Percent(r.Utilisation)))],
                [5]),
            new("reviewer-load", "Reviewer load and turnaround", "Reviews assigned, submitted and still open per reviewer; turnaround is the mean days from assignment to submission.",
                ["Reviewer", "Assigned", "Submitted", "Open", "Mean turnaround (days)"],
                [.. report.ReviewerLoad.Select(r => Row(ReportCell.Of(r.Reviewer), ReportCell.Count(r.Assigned), ReportCell.Count(r.Submitted), ReportCell.Count(r.Open), ReportCell.Days(r.MeanTurnaroundDays)))],
                [2, 3]),
            new("time-to-decision", "Time from submission to decision", "Proposals by the days from submission to the released decision.",
                ["Days to decision", "Proposals"],
                [.. report.DecisionTimes.Select(b => Row(ReportCell.Of(b.Label), ReportCell.Count(b.Proposals)))],
                [1]),
            new("outputs-by-call", "Outputs by call", "Papers, datasets, model weights and code listed in the accepted progress and final reports of each call's allocations; each output counted once per call.",
                ["Call", "Papers", "Datasets", "Model weights", "Code", "Total"],
                [.. report.OutputsByCall.Select(r => Row(ReportCell.Of(r.Call), ReportCell.Count(r.Papers), ReportCell.Count(r.Datasets), ReportCell.Count(r.ModelWeights), ReportCell.Count(r.Code), ReportCell.Count(r.Total)))],
                [1, 2, 3, 4]),
        ];
    }

    private static ReportTable Counts(string id, string title, string description, string label, IReadOnlyList<CountRow> rows, string chart = "bar") =>
        new(id, title, description, [label, .. CountColumns],
            [.. rows.Select(r => Row(ReportCell.Of(r.Label), ReportCell.Count(r.Submitted), ReportCell.Count(r.Decided), ReportCell.Count(r.Awarded), ReportCell.Percent(r.SuccessRate)))],
            [1, 3], chart);

    private static IReadOnlyList<ReportCell> Row(params ReportCell[] cells) => cells;
}

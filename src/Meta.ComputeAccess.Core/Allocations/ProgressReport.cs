using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace Meta.ComputeAccess.Allocations;

public enum ProgressReportKind
{
    /// <summary>Asked for at a configured point of the allocation (<see cref="ProgressReportOptions.ProgressAt"/>).</summary>
    Progress,
    /// <summary>Asked for once the allocation has ended.</summary>
    Final,
}

public enum ProgressReportStatus
{
    /// <summary>Asked for, not yet submitted (overdue once <see cref="ProgressReport.DueOn"/> has passed).</summary>
    Due,
    /// <summary>Submitted and waiting for an admin; the team may still correct it.</summary>
    Submitted,
    /// <summary>Accepted by an admin: final.</summary>
    Accepted,
}

public enum OutputKind
{
    Paper,
    Dataset,
    [Display(Name = "Model weights")]
    ModelWeights,
    Code,
}

/// <summary>What the team enters for one output.</summary>
public sealed record OutputInput(OutputKind Kind, string? Title, string? DoiOrUrl, string? Licence);

/// <summary>
/// A progress or final report an allocation's team owes the program: a short narrative and the outputs (papers and
/// datasets by DOI, model weights and code by URL with their licence). Asked for by <see cref="ProgressReportJob"/>,
/// submitted by the team, accepted by an admin (<see cref="ProgressReports.AcceptAsync"/>, which tells every
/// <see cref="IProgressReportAcceptedHandler"/>).
/// </summary>
public sealed partial class ProgressReport
{
    public const int MaxOutputs = 50;
    public const int MaxNarrative = 10_000;

    private readonly List<ReportOutput> outputs = [];

    public Guid Id { get; private set; }

    public Guid AllocationId { get; private set; }

    public ProgressReportKind Kind { get; private set; }

    public ProgressReportStatus Status { get; private set; }

    public DateOnly DueOn { get; private set; }

    public DateTimeOffset RequestedAt { get; private set; }

    /// <summary>The admin who asked for this report outside the schedule (<see cref="AskNow"/>); null when the job asked for it.</summary>
    public Guid? RequestedBy { get; private set; }

    /// <summary>Asked for by an admin on demand rather than by the schedule.</summary>
    public bool IsOnRequest => RequestedBy is not null;

    public string Narrative { get; private set; } = "";

    public DateTimeOffset? SubmittedAt { get; private set; }

    public Guid? SubmittedBy { get; private set; }

    public DateTimeOffset? AcceptedAt { get; private set; }

    public Guid? AcceptedBy { get; private set; }

    public DateTimeOffset? ReminderSentAt { get; private set; }

    public DateTimeOffset? OverdueNoticeSentAt { get; private set; }

    /// <summary>Bumped on every save: a report corrected by two people at once is refused for the second, not overwritten.</summary>
    public uint Version { get; private set; }

    public IReadOnlyList<ReportOutput> Outputs => outputs;

    private ProgressReport()
    {
    }

    public static ProgressReport Request(Guid allocationId, ProgressReportKind kind, DateOnly dueOn, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        AllocationId = allocationId,
        Kind = kind,
        Status = ProgressReportStatus.Due,
        DueOn = dueOn,
        RequestedAt = now,
    };

    /// <summary>The longest an admin may give a team for a report asked for on demand.</summary>
    public const int MaxDaysOnRequest = 365;

    /// <summary>
    /// An admin asks the team for a progress report now, outside the schedule (a funder's review, a renewal), due on
    /// <paramref name="dueOn"/>: from tomorrow to <see cref="MaxDaysOnRequest"/> days ahead (UTC days).
    /// </summary>
    public static ProgressReport AskNow(Guid allocationId, DateOnly dueOn, Guid admin, DateTimeOffset now)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        if (dueOn <= today || dueOn > today.AddDays(MaxDaysOnRequest))
        {
            throw new DomainException("Give the team a due date from tomorrow to a year ahead.",
                new Dictionary<string, string> { [nameof(DueOn)] = $"Choose a day from {today.AddDays(1):yyyy-MM-dd} to {today.AddDays(MaxDaysOnRequest):yyyy-MM-dd}." });
        }
        var report = Request(allocationId, ProgressReportKind.Progress, dueOn, now);
        report.RequestedBy = admin;
        return report;
    }

    /// <summary>Not submitted and past its due date (UTC days): the one rule, as a query filter (<see cref="OverdueOn"/>) and in memory.</summary>
    public bool IsOverdue(DateOnly today) => IsOverdue(Status, DueOn, today);

    /// <summary>The same rule for a report read as its status and due date.</summary>
    public static bool IsOverdue(ProgressReportStatus status, DateOnly dueOn, DateOnly today) => status == ProgressReportStatus.Due && dueOn < today;

    /// <summary><see cref="IsOverdue(DateOnly)"/> for a query (the admin's overdue list and count).</summary>
    public static System.Linq.Expressions.Expression<Func<ProgressReport, bool>> OverdueOn(DateOnly today) =>
        r => r.Status == ProgressReportStatus.Due && r.DueOn < today;

    /// <summary>The team submits (or, until an admin accepts it, corrects) the report; everything is checked before anything changes.</summary>
    public void Submit(string? narrative, IReadOnlyList<OutputInput> given, Guid actor, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(given);
        if (Status == ProgressReportStatus.Accepted)
        {
            throw new DomainException("This report was accepted and can no longer change.");
        }
        narrative = (narrative ?? "").Trim();
        var problems = new Dictionary<string, string>(StringComparer.Ordinal);
        if (narrative.Length < 50)
        {
            problems[nameof(Narrative)] = "Describe what the hours achieved in at least 50 characters.";
        }
        else if (narrative.Length > MaxNarrative)
        {
            problems[nameof(Narrative)] = $"The narrative is limited to {MaxNarrative:N0} characters.";
        }
        else if (PlainText.HasControlOutsideLines(narrative))
        {
            problems[nameof(Narrative)] = "The narrative contains control characters.";
        }
        var filled = given.Where(o => !string.IsNullOrWhiteSpace(o.Title) || !string.IsNullOrWhiteSpace(o.DoiOrUrl) || !string.IsNullOrWhiteSpace(o.Licence)).ToList();
        if (filled.Count > MaxOutputs)
        {
            throw new DomainException($"A report lists at most {MaxOutputs} outputs.");
        }
        var parsed = new List<ReportOutput>();
        for (var i = 0; i < given.Count; i++)
        {
            if (!filled.Contains(given[i]))
            {
                continue;
            }
            try
            {
                parsed.Add(ReportOutput.From(Id, given[i]));
            }
            catch (DomainException refused)
            {
                problems[$"Outputs[{i}]"] = refused.Message;
            }
        }
        if (problems.Count > 0)
        {
            throw new DomainException("The report is not complete: see the messages beside the fields.", problems);
        }
        Narrative = narrative;
        outputs.Clear();
        outputs.AddRange(parsed);
        Status = ProgressReportStatus.Submitted;
        SubmittedAt = now;
        SubmittedBy = actor;
    }

    /// <summary>An admin accepts a submitted report; it is final from then on.</summary>
    public void Accept(Guid admin, DateTimeOffset now)
    {
        if (Status != ProgressReportStatus.Submitted)
        {
            throw new DomainException(Status == ProgressReportStatus.Accepted ? "This report was already accepted." : "Only a submitted report can be accepted.");
        }
        Status = ProgressReportStatus.Accepted;
        AcceptedAt = now;
        AcceptedBy = admin;
    }

    internal void MarkReminderSent(DateTimeOffset now) => ReminderSentAt = now;

    internal void MarkOverdueNoticeSent(DateTimeOffset now) => OverdueNoticeSentAt = now;
}

/// <summary>
/// One output of a report: a paper or dataset by DOI (kept as <c>10.x/y</c>, shown as an https://doi.org link), or
/// model weights or code by an http(s) URL with the licence they are released under.
/// </summary>
public sealed partial class ReportOutput
{
    public long Id { get; private set; }

    public Guid ReportId { get; private set; }

    public OutputKind Kind { get; private set; }

    public string Title { get; private set; } = "";

    /// <summary>The DOI without a resolver (<c>10.1234/abc</c>); papers and datasets.</summary>
    public string? Doi { get; private set; }

    /// <summary>An absolute http(s) URL; model weights and code.</summary>
    public string? Url { get; private set; }

    public string Licence { get; private set; } = "";

    /// <summary>Where a person follows the output: the DOI's https://doi.org link or the URL.</summary>
    public string Link => Doi is { } doi ? DoiLink(doi) : Url ?? "";

    private ReportOutput()
    {
    }

    /// <summary>The resolver link of a DOI, each character that is not safe in a URL path escaped.</summary>
    public static string DoiLink(string doi) => "https://doi.org/" + string.Join('/', doi.Split('/').Select(Uri.EscapeDataString));

    internal static ReportOutput From(Guid reportId, OutputInput input)
    {
        if (!Enum.IsDefined(input.Kind))
        {
            throw new DomainException("Choose what kind of output this is.");
        }
        var title = (input.Title ?? "").Trim();
        if (title.Length is 0 or > 300 || PlainText.HasControl(title))
        {
            throw new DomainException("Give each output a title of at most 300 characters.");
        }
        var licence = (input.Licence ?? "").Trim();
        if (licence.Length > 100 || PlainText.HasControl(licence))
        {
            throw new DomainException("A licence is at most 100 characters, e.g. CC BY 4.0 or Apache-2.0.");
        }
        var output = new ReportOutput { ReportId = reportId, Kind = input.Kind, Title = title, Licence = licence };
        var given = (input.DoiOrUrl ?? "").Trim();
        if (input.Kind is OutputKind.Paper or OutputKind.Dataset)
        {
            output.Doi = ParseDoi(given) ?? throw new DomainException("Give the DOI, such as 10.1234/abcd.5678 (https://doi.org/… is fine too).");
        }
        else
        {
            if (licence.Length == 0)
            {
                throw new DomainException("Name the licence the weights or code are released under, e.g. Apache-2.0.");
            }
            output.Url = ParseUrl(given) ?? throw new DomainException("Give the web address (https://…) where the weights or code can be downloaded.");
        }
        return output;
    }

    /// <summary>
    /// A DOI by syntax (the prefix <c>10.</c> and 4–9 digits, a slash, a suffix of visible characters), given bare, as
    /// <c>doi:</c> or as a doi.org link; null when it is not one. Whether it resolves is not checked (no network call).
    /// </summary>
    public static string? ParseDoi(string? text)
    {
        var doi = (text ?? "").Trim();
        foreach (var prefix in (string[])["https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"])
        {
            if (doi.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                doi = doi[prefix.Length..];
                break;
            }
        }
        if (doi.Contains('%', StringComparison.Ordinal))
        {
            try
            {
                doi = Uri.UnescapeDataString(doi);
            }
            catch (UriFormatException)
            {
                return null;
            }
        }
        return doi.Length <= 300 && DoiSyntax().IsMatch(doi) ? doi : null;
    }

    /// <summary>An absolute http or https URL with a host, at most 2,000 characters; null otherwise.</summary>
    public static string? ParseUrl(string? text)
    {
        var url = (text ?? "").Trim();
        return url.Length <= 2000 && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" && uri.Host.Length > 0 && !url.Any(char.IsWhiteSpace)
            ? uri.AbsoluteUri
            : null;
    }

    [GeneratedRegex(@"^10\.\d{4,9}(\.\d+)*/[\x21-\x7E\u00A0-\uFFFF]+$", RegexOptions.CultureInvariant)]
    private static partial Regex DoiSyntax();
}

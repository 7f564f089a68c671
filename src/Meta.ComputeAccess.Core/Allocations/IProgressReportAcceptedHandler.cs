namespace Meta.ComputeAccess.Allocations;

/// <summary>A report an admin has just accepted.</summary>
public sealed record AcceptedProgressReport(Guid ReportId, Guid AllocationId, ProgressReportKind Kind, Guid AcceptedBy, DateTimeOffset AcceptedAt)
{
    /// <summary>
    /// An admin asked for this progress report on demand (<see cref="ProgressReports.AskAsync"/>) rather than the
    /// schedule; a handler tied to the schedule (a tranche per scheduled report) may want to skip it.
    /// </summary>
    public bool OnRequest { get; init; }
}

/// <summary>
/// The hook for what an accepted report sets off (a tranche of hours that an accepted progress report releases, for
/// one). <see cref="ProgressReports.AcceptAsync"/> calls every registered handler inside the acceptance's unit of
/// work, before its one save: what a handler adds to the context commits with the acceptance, and a
/// <see cref="DomainException"/> from a handler refuses the acceptance and saves nothing. Register implementations
/// with <c>services.AddScoped&lt;IProgressReportAcceptedHandler, …&gt;()</c> in their module.
/// </summary>
public interface IProgressReportAcceptedHandler
{
    Task OnProgressReportAcceptedAsync(AcceptedProgressReport report, CancellationToken cancellationToken);
}

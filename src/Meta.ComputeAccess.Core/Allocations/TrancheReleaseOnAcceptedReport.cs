namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// An accepted progress report releases the allocation's next tranche, in the acceptance's transaction (the allocation
/// is locked by then). Only a scheduled progress report does: a final report comes when the allocation has ended, and
/// a report an admin asked for on demand is a check, not a milestone. An allocation with no tranche waiting, or one
/// that is no longer open, is left as it is: the acceptance itself never fails for it.
/// </summary>
internal sealed class TrancheReleaseOnAcceptedReport(AllocationService allocations) : IProgressReportAcceptedHandler
{
    public async Task OnProgressReportAcceptedAsync(AcceptedProgressReport report, CancellationToken cancellationToken)
    {
        if (report.Kind != ProgressReportKind.Progress || report.OnRequest)
        {
            return;
        }
        var allocation = await allocations.LockAsync(report.AllocationId, cancellationToken);
        if (!allocation.IsOpen)
        {
            return;
        }
        await allocations.ReleaseNextTrancheAsync(allocation, $"progress report accepted on {report.AcceptedAt:yyyy-MM-dd}", report.AcceptedBy, cancellationToken);
    }
}

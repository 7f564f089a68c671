using Hangfire;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Meta.ComputeAccess.Compliance;

/// <summary>
/// Screens every open proposal and every open allocation (active, suspended or exhausted) again, after a list import
/// or a change of the country rules. Batches of <see cref="BatchSize"/> teams, each saved in its own transaction; safe
/// to run twice (a finding already known only gains links), and a run cut short is finished by the next.
/// </summary>
public sealed partial class ComplianceRescreenJob(PortalDbContext db, PartyScreening screening, AuditLog audit, ILogger<ComplianceRescreenJob> log)
{
    public const int BatchSize = 200;

    /// <summary>Queues a run after the caller's change has committed; <paramref name="versionId"/> is the list version that prompted it, if any.</summary>
    public static void Enqueue(IBackgroundJobClient jobs, Guid? versionId) =>
        jobs.Enqueue<ComplianceRescreenJob>(j => j.RunAsync(versionId, CancellationToken.None));

    /// <summary>Returns the number of new hits.</summary>
    public async Task<int> RunAsync(Guid? versionId, CancellationToken cancellationToken)
    {
        var proposals = await screening.ProposalTargetsAsync(screening.OpenProposals(), cancellationToken);
        var allocations = await screening.AllocationTargetsAsync(db.Allocations.Where(a => Allocation.ChargeableStates.Contains(a.State)), cancellationToken);
        var targets = proposals.Concat(allocations).ToList();
        var found = 0;
        for (var offset = 0; offset < targets.Count; offset += BatchSize)
        {
            var batch = targets.Skip(offset).Take(BatchSize).ToList();
            found += await db.SaveAsync(() => screening.ScreenAsync(batch, refuseEmbargo: false, cancellationToken), cancellationToken);
            db.ChangeTracker.Clear();
        }
        audit.Record(null, "compliance.rescreened", "screening-list", versionId?.ToString() ?? "",
            $"Screened {proposals.Count:N0} open proposals and {allocations.Count:N0} open allocations again: {found:N0} new hits");
        await db.SaveChangesAsync(cancellationToken);
        LogRescreened(versionId, proposals.Count, allocations.Count, found);
        return found;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-screened after {VersionId}: {Proposals} proposals, {Allocations} allocations, {Found} new hits")]
    private partial void LogRescreened(Guid? versionId, int proposals, int allocations, int found);
}

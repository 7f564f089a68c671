using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// The hand-over from review: an accepted award becomes an allocation (project, PI, hours per cluster, the call's
/// award period), granted under the capacity rules like any other. It runs in the acceptance's unit of work, so
/// if capacity or the period refuses, the acceptance is refused too, with the reason.
/// </summary>
/// <remarks>
/// The award is released in the tranches <c>Allocations:AwardTranches</c> sets (all at once by default). An award of a
/// proposal that hours were advanced against (<see cref="AllocationService.AdvanceAsync"/>) is the renewal of the advanced
/// allocation's Slurm account when that account is free over the award's dates (so the cluster resets its usage once and
/// runs the new grant), and the advances are deducted from it either way.
/// </remarks>
public sealed class AllocationAwardHandler(PortalDbContext db, AllocationService allocations, IOptions<AllocationOptions> options) : IAwardAcceptanceHandler
{
    public async Task OnAwardAcceptedAsync(AcceptedAward award, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(award);
        var period = await db.AllocationPeriods.AsNoTracking()
            .Where(p => p.StartDate <= award.AwardStart && p.EndDate >= award.AwardStart)
            .OrderBy(p => p.StartDate)
            .FirstOrDefaultAsync(cancellationToken)
            ?? throw new DomainException(
                $"No allocation period covers the award's start date {award.AwardStart:yyyy-MM-dd} yet, so its hours cannot be granted. " +
                "The program has been told; try again once it has set up the period.");
        var title = award.Title.Length > 200 ? award.Title[..200] : award.Title;
        await allocations.CreateAsync(
            new NewAllocation(period.Id, award.PiUserId, title, award.AwardStart, award.AwardEnd,
                award.Hours.Where(h => h.Hours > 0).ToDictionary(h => h.ClusterId, h => h.Hours), ProposalId: award.ProposalId,
                SlurmAccount: await allocations.RenewedAccountAsync(award.ProposalId, award.AwardStart, award.AwardEnd, cancellationToken),
                Tranches: options.Value.AwardTranchesOrAll),
            award.PiUserId, cancellationToken);
    }
}

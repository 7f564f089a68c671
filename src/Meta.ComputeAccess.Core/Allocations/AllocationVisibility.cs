using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// Who may see an allocation, declared once and applied before anything is loaded: admins, its PI, and the team of
/// the proposal it was awarded for (co-investigators who joined; an invitation not yet accepted gives nothing).
/// Everyone else gets the 404 of an allocation that does not exist. Who hears about an allocation is the same team
/// (<see cref="AllocationNotices"/>).
/// </summary>
/// <remarks>
/// An allocation keeps its proposal's id without a foreign key (discretionary allocations have none, and the
/// schema has no constraint between the two tables), so there is no navigation to follow: the team is read from
/// the same context's proposal members, inside the one query.
/// </remarks>
public static class AllocationVisibility
{
    public static IQueryable<Allocation> VisibleTo(this DbSet<Allocation> allocations, Viewer viewer) =>
        viewer.IsAdmin ? allocations : allocations.OnTeamOf(viewer.UserId);

    /// <summary>The allocations on whose team <paramref name="userId"/> is, as PI or joined member: "my allocations".</summary>
    public static IQueryable<Allocation> OnTeamOf(this DbSet<Allocation> allocations, Guid userId)
    {
        var members = allocations.GetService<ICurrentDbContext>().Context.Set<ProposalMember>();
        return allocations.Where(a => a.PiUserId == userId
            || (a.ProposalId != null && members.Any(m => m.ProposalId == a.ProposalId && m.UserId == userId)));
    }
}

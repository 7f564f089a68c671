using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// Who may see an allocation, declared once and applied before anything is loaded: admins, its PI, and its active
/// members (the awarded proposal's co-investigators from the start, and whoever the PI invited and who accepted; an
/// invitation not yet accepted, a declined one or a removed member gives nothing). Everyone else gets the 404 of an
/// allocation that does not exist. Who hears about an allocation is the same team (<see cref="AllocationNotices"/>).
/// </summary>
public static class AllocationVisibility
{
    public static IQueryable<Allocation> VisibleTo(this DbSet<Allocation> allocations, Viewer viewer) =>
        viewer.IsAdmin ? allocations : allocations.OnTeamOf(viewer.UserId);

    /// <summary>The allocations on whose team <paramref name="userId"/> is, as PI or active member: "my allocations".</summary>
    public static IQueryable<Allocation> OnTeamOf(this DbSet<Allocation> allocations, Guid userId) =>
        allocations.Where(a => a.PiUserId == userId
            || a.Members.Any(m => m.UserId == userId && m.Status == AllocationMemberStatus.Active));
}

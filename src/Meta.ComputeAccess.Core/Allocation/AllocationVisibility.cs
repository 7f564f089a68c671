using Meta.ComputeAccess.Data;

namespace Meta.ComputeAccess.Allocation;

/// <summary>
/// Who may see an allocation, declared once. Today: admins and the PI. Hook for later: when proposals exist,
/// co-investigators of the allocation's proposal join here (and only here).
/// </summary>
public sealed class AllocationVisibility(PortalDbContext db)
{
    /// <summary>The allocations <paramref name="userId"/> may see as a team member.</summary>
    public IQueryable<Allocation> VisibleTo(Guid userId) => db.Allocations.Where(a => a.PiUserId == userId);

    public bool CanSee(Allocation allocation, Guid userId, bool isAdmin) =>
        isAdmin || allocation.PiUserId == userId;

    /// <summary>Supplements and extensions are asked for by the PI.</summary>
    public static bool CanRequestSupplement(Allocation allocation, Guid userId) => allocation.PiUserId == userId;
}

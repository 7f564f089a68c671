using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// Who may see an allocation, declared once: admins, its PI, and the team of the proposal it was awarded for
/// (co-investigators who joined; an invitation not yet accepted gives nothing). Everyone else gets 404.
/// </summary>
public sealed class AllocationVisibility(PortalDbContext db)
{
    /// <summary>The allocations <paramref name="userId"/> may see as PI or team member.</summary>
    public IQueryable<Allocation> VisibleTo(Guid userId) =>
        db.Allocations.Where(a => a.PiUserId == userId
            || (a.ProposalId != null && db.ProposalMembers.Any(m => m.ProposalId == a.ProposalId && m.UserId == userId)));

    public async Task<bool> CanSeeAsync(Allocation allocation, Guid userId, bool isAdmin, CancellationToken cancellationToken = default) =>
        isAdmin
        || allocation.PiUserId == userId
        || (allocation.ProposalId is { } proposalId
            && await db.ProposalMembers.AnyAsync(m => m.ProposalId == proposalId && m.UserId == userId, cancellationToken));

    /// <summary>The PI and the team members who joined: who hears about the allocation.</summary>
    public async Task<IReadOnlyList<Guid>> TeamAsync(Allocation allocation, CancellationToken cancellationToken = default)
    {
        var team = allocation.ProposalId is { } proposalId
            ? await db.ProposalMembers.Where(m => m.ProposalId == proposalId && m.UserId != null).Select(m => m.UserId!.Value).ToListAsync(cancellationToken)
            : [];
        return [.. team.Append(allocation.PiUserId).Distinct()];
    }

    /// <summary>Supplements and extensions are asked for by the PI.</summary>
    public static bool CanRequestSupplement(Allocation allocation, Guid userId) => allocation.PiUserId == userId;
}

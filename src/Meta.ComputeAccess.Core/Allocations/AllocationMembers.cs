using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// An allocation's membership: the PI (or an admin) invites people who have an account, they accept or decline, the
/// PI removes members. Each method locks the allocation, lets <see cref="Allocation"/> check the rule, records the
/// membership event and the audit entry, notifies, and saves once. Null or false when the allocation is not visible
/// to the caller (the page's 404).
/// </summary>
public sealed class AllocationMembers(PortalDbContext db, AllocationService allocations, AllocationNotices notices, AuditLog audit, ILookupNormalizer normalizer, TimeProvider clock)
{
    /// <summary>Invites the account with <paramref name="email"/>; returns the invitee's name, or null when the caller cannot see the allocation.</summary>
    public async Task<string?> InviteAsync(Guid allocationId, Viewer viewer, string email, CancellationToken cancellationToken = default)
    {
        if (!await db.Allocations.VisibleTo(viewer).AnyAsync(a => a.Id == allocationId, cancellationToken))
        {
            return null;
        }
        var normalized = normalizer.NormalizeEmail((email ?? "").Trim());
        string? inviteeName = null;
        return await ChangeAsync(allocationId, viewer, async allocation =>
        {
            // Looked up only once the caller may manage members: nobody else learns which addresses have an account.
            var invitee = await db.Users.AsNoTracking().Where(u => u.NormalizedEmail == normalized && u.EmailConfirmed)
                .Select(u => new { u.Id, u.FullName }).SingleOrDefaultAsync(cancellationToken)
                ?? throw new DomainException("No confirmed portal account has this email address: the person registers first, then you invite them.",
                    new Dictionary<string, string> { ["Email"] = "No account with this address." });
            allocation.InviteMember(invitee.Id, viewer.UserId, clock.GetUtcNow());
            await notices.MemberInvitedAsync(allocation, invitee.Id, viewer.UserId, cancellationToken);
            inviteeName = invitee.FullName;
            return $"Invited {invitee.FullName} to {allocation.SlurmAccount}";
        }, cancellationToken) is null ? null : inviteeName;
    }

    /// <summary>The invited user accepts; false when they have no invitation to this allocation.</summary>
    public Task<bool> AcceptAsync(Guid allocationId, Guid userId, CancellationToken cancellationToken = default) =>
        AnswerAsync(allocationId, userId, accept: true, cancellationToken);

    public Task<bool> DeclineAsync(Guid allocationId, Guid userId, CancellationToken cancellationToken = default) =>
        AnswerAsync(allocationId, userId, accept: false, cancellationToken);

    /// <summary>The PI or an admin removes a member or withdraws an invitation; false when the caller cannot see the allocation.</summary>
    public async Task<bool> RemoveAsync(Guid allocationId, Viewer viewer, Guid memberUserId, CancellationToken cancellationToken = default) =>
        await db.Allocations.VisibleTo(viewer).AnyAsync(a => a.Id == allocationId, cancellationToken)
        && await ChangeAsync(allocationId, viewer, allocation =>
        {
            allocation.RemoveMember(memberUserId, viewer.UserId, clock.GetUtcNow());
            return Task.FromResult($"Removed a member from {allocation.SlurmAccount}");
        }, cancellationToken) is not null;

    private async Task<bool> AnswerAsync(Guid allocationId, Guid userId, bool accept, CancellationToken cancellationToken)
    {
        if (!await db.AllocationMembers.AnyAsync(m => m.AllocationId == allocationId && m.UserId == userId, cancellationToken))
        {
            return false;
        }
        await allocations.InTransactionAsync(async () =>
        {
            var allocation = await LockWithMembersAsync(allocationId, cancellationToken);
            var now = clock.GetUtcNow();
            if (accept)
            {
                allocation.AcceptMembership(userId, now);
            }
            else
            {
                allocation.DeclineMembership(userId, now);
            }
            audit.Record(userId, accept ? "allocation.member-accepted" : "allocation.member-declined", "allocation", allocation.Id.ToString(),
                $"{(accept ? "Joined" : "Declined to join")} {allocation.SlurmAccount}");
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }, cancellationToken);
        return true;
    }

    /// <summary>Runs a membership change by the PI or an admin; the audit line is what <paramref name="change"/> returns.</summary>
    private Task<string?> ChangeAsync(Guid allocationId, Viewer viewer, Func<Allocation, Task<string>> change, CancellationToken cancellationToken) =>
        allocations.InTransactionAsync<string?>(async () =>
        {
            var allocation = await LockWithMembersAsync(allocationId, cancellationToken);
            if (!allocation.MayManageMembers(viewer))
            {
                throw new DomainException("Only the allocation's PI (or the program's admins) may change who is on it.");
            }
            var summary = await change(allocation);
            var action = allocation.MemberEvents[^1].Action;
            audit.Record(viewer.UserId, $"allocation.member-{action}", "allocation", allocation.Id.ToString(), summary);
            await db.SaveChangesAsync(cancellationToken);
            return summary;
        }, cancellationToken);

    private async Task<Allocation> LockWithMembersAsync(Guid allocationId, CancellationToken cancellationToken)
    {
        var allocation = await allocations.LockAsync(allocationId, cancellationToken);
        // Tracked rows are fixed up into the allocation's Members.
        await db.AllocationMembers.Where(m => m.AllocationId == allocationId).LoadAsync(cancellationToken);
        return allocation;
    }
}

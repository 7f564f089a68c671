using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Proposals;

/// <summary>
/// Links pending co-investigator invitations to a person once they have confirmed the invited email address:
/// confirmation proves they own it, so nobody joins a team by merely typing someone else's address.
/// </summary>
public sealed class ProposalInvitations(PortalDbContext db, TimeProvider clock)
{
    /// <summary>Joins <paramref name="user"/> to every proposal that invited their confirmed email; returns how many.</summary>
    public async Task<int> ClaimAsync(PortalUser user, CancellationToken cancellationToken = default)
    {
        if (!user.EmailConfirmed || user.NormalizedEmail is null)
        {
            return 0;
        }
        var pending = await db.ProposalMembers
            .Where(m => m.UserId == null && m.InvitedEmailNormalized == user.NormalizedEmail)
            .ToListAsync(cancellationToken);
        var now = clock.GetUtcNow();
        foreach (var member in pending)
        {
            member.Join(user.Id, now);
        }
        await db.SaveChangesAsync(cancellationToken);
        return pending.Count;
    }
}

using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Proposals;

/// <summary>What became of an invitation: <see cref="Joined"/> when the address is a confirmed account, which joins at once.</summary>
public sealed record TeamInvitation(string Email, bool Joined);

/// <summary>
/// A proposal's team: the PI invites co-investigators by email and removes them; an invited person joins once they
/// have confirmed the invited address (confirmation proves they own it, so nobody joins a team by merely typing
/// someone else's address). Each method saves once.
/// </summary>
public sealed class ProposalTeam(PortalDbContext db, Notifier notifier, ILookupNormalizer normalizer, TimeProvider clock)
{
    public const string TeamChangedMessage = "The team changed meanwhile (the same person invited twice at once, or a member already removed): reload the page and try again.";

    /// <summary>
    /// The PI invites <paramref name="email"/>: a confirmed account joins at once and is notified; any other address
    /// is mailed an invitation to register. Null when <paramref name="actor"/> is not on the proposal's team.
    /// </summary>
    public async Task<TeamInvitation?> InviteAsync(Guid proposalId, Guid actor, string email, CancellationToken cancellationToken = default)
    {
        var proposal = await TeamProposalAsync(proposalId, actor, cancellationToken);
        if (proposal is null)
        {
            return null;
        }
        email = email.Trim();
        var normalized = normalizer.NormalizeEmail(email);
        var invitee = await db.Users.AsNoTracking()
            .Where(u => u.NormalizedEmail == normalized && u.EmailConfirmed)
            .Select(u => (Guid?)u.Id)
            .SingleOrDefaultAsync(cancellationToken);
        proposal.InviteCoInvestigator(email, invitee, actor, clock.GetUtcNow());

        var context = await db.Users.AsNoTracking()
            .Where(u => u.Id == actor)
            .Select(u => new { Inviter = u.FullName, Call = db.Calls.Where(c => c.Id == proposal.CallId).Select(c => c.Title).First() })
            .SingleAsync(cancellationToken);
        var values = new Dictionary<string, string> { ["inviter"] = context.Inviter, ["call"] = context.Call };
        if (invitee is { } userId)
        {
            values["action"] = "Open the proposal:";
            await notifier.NotifyAsync(userId, NotificationKinds.CoInvestigatorInvited, proposal.Title, $"/Proposals/Details/{proposal.Id}", values, cancellationToken);
        }
        else
        {
            // Not registered yet: no account, no preferences; the invitation goes straight to the address.
            values["action"] = "Create an account with this email address to join the team (you join as soon as you confirm the address):";
            notifier.MailAddress(email, NotificationKinds.CoInvestigatorInvited, proposal.Title, "/Account/Register", values);
        }
        await db.SaveChangesOrRefuseAsync(TeamChangedMessage, cancellationToken);
        return new TeamInvitation(email, invitee is not null);
    }

    /// <summary>The PI removes a co-investigator (or an open invitation); false when <paramref name="actor"/> is not on the team.</summary>
    public async Task<bool> RemoveAsync(Guid proposalId, Guid actor, Guid memberId, CancellationToken cancellationToken = default)
    {
        var proposal = await TeamProposalAsync(proposalId, actor, cancellationToken);
        if (proposal is null)
        {
            return false;
        }
        proposal.RemoveMember(memberId, actor, clock.GetUtcNow());
        await db.SaveChangesOrRefuseAsync(TeamChangedMessage, cancellationToken);
        return true;
    }

    /// <summary>Joins <paramref name="user"/> to every proposal that invited their confirmed email; returns how many.</summary>
    public async Task<int> ClaimInvitationsAsync(PortalUser user, CancellationToken cancellationToken = default)
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

    private Task<Proposal?> TeamProposalAsync(Guid proposalId, Guid actor, CancellationToken cancellationToken) =>
        db.Proposals.VisibleTo(Viewer.Applicant(actor)).Include(p => p.Members).SingleOrDefaultAsync(p => p.Id == proposalId, cancellationToken);
}

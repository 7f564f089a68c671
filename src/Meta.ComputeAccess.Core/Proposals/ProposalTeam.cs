using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Proposals;

/// <summary>An invitation was sent to <see cref="Email"/>; the answer never says whether the address has an account.</summary>
public sealed record TeamInvitation(string Email);

/// <summary>
/// A proposal's team: the PI invites co-investigators by email and removes them. An invitation is a request, whoever it
/// goes to: the invited person accepts or declines it, signed in with a confirmed account of the invited address
/// (confirmation proves they own it). Until they accept they are not on the team: they see nothing of the draft and
/// count for no conflict of interest. Each method saves once.
/// </summary>
public sealed class ProposalTeam(PortalDbContext db, Notifier notifier, ILookupNormalizer normalizer, TimeProvider clock)
{
    public const string TeamChangedMessage = "The team changed meanwhile (the same person invited twice at once, or a member already removed): reload the page and try again.";

    /// <summary>Where invited people answer their invitations.</summary>
    public const string InvitationsPath = "/Proposals/Invitations";

    /// <summary>
    /// The PI invites <paramref name="email"/>: a confirmed account gets a notice (and mail, by its preferences) to accept
    /// or decline; any other address is mailed an invitation to register first. Null when <paramref name="actor"/> is not
    /// on the proposal's team.
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
        var account = await db.Users.AsNoTracking()
            .Where(u => u.NormalizedEmail == normalized)
            .Select(u => new { u.Id, u.EmailConfirmed })
            .SingleOrDefaultAsync(cancellationToken);
        proposal.InviteCoInvestigator(email, account?.Id, actor, clock.GetUtcNow());

        var context = await db.Users.AsNoTracking()
            .Where(u => u.Id == actor)
            .Select(u => new { Inviter = u.FullName, Call = db.Calls.Where(c => c.Id == proposal.CallId).Select(c => c.Title).First() })
            .SingleAsync(cancellationToken);
        var values = new Dictionary<string, string> { ["inviter"] = context.Inviter, ["call"] = context.Call };
        if (account is { EmailConfirmed: true })
        {
            values["action"] = "Accept or decline the invitation, signed in to your account:";
            await notifier.NotifyAsync(account.Id, NotificationKinds.CoInvestigatorInvited, proposal.Title, InvitationsPath, values, cancellationToken);
        }
        else
        {
            // No confirmed account: no preferences to consult; the invitation goes straight to the address.
            values["action"] = "Create an account with this email address, confirm it, then accept or decline the invitation:";
            notifier.MailAddress(email, NotificationKinds.CoInvestigatorInvited, proposal.Title, "/Account/Register", values);
        }
        await db.SaveChangesOrRefuseAsync(TeamChangedMessage, cancellationToken);
        return new TeamInvitation(email);
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

    /// <summary>
    /// <paramref name="user"/> accepts the invitation <paramref name="memberId"/> and joins the team. False when there is no
    /// such open invitation to their confirmed address (the page answers 404).
    /// </summary>
    public Task<bool> AcceptAsync(Guid memberId, Guid user, CancellationToken cancellationToken = default) =>
        AnswerAsync(memberId, user, (proposal, email, now) => proposal.AcceptInvitation(memberId, user, email, now), cancellationToken);

    /// <summary><paramref name="user"/> declines the invitation <paramref name="memberId"/>; false as for <see cref="AcceptAsync"/>.</summary>
    public Task<bool> DeclineAsync(Guid memberId, Guid user, CancellationToken cancellationToken = default) =>
        AnswerAsync(memberId, user, (proposal, email, now) => proposal.DeclineInvitation(memberId, user, email, now), cancellationToken);

    private async Task<bool> AnswerAsync(Guid memberId, Guid user, Action<Proposal, string, DateTimeOffset> answer, CancellationToken cancellationToken)
    {
        var email = await db.Users.Where(u => u.Id == user && u.EmailConfirmed).Select(u => u.NormalizedEmail).SingleOrDefaultAsync(cancellationToken);
        var invitation = await db.ProposalMembers.InvitationsTo(db.Users, user).Where(m => m.Id == memberId).Select(m => (Guid?)m.ProposalId).SingleOrDefaultAsync(cancellationToken);
        if (email is null || invitation is not { } proposalId)
        {
            return false;
        }
        var proposal = await db.Proposals.Include(p => p.Members).SingleAsync(p => p.Id == proposalId, cancellationToken);
        answer(proposal, email, clock.GetUtcNow());
        await db.SaveChangesOrRefuseAsync(TeamChangedMessage, cancellationToken);
        return true;
    }

    private Task<Proposal?> TeamProposalAsync(Guid proposalId, Guid actor, CancellationToken cancellationToken) =>
        db.Proposals.VisibleTo(Viewer.Applicant(actor)).Include(p => p.Members).SingleOrDefaultAsync(p => p.Id == proposalId, cancellationToken);
}

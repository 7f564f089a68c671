namespace Meta.ComputeAccess.Proposals;

/// <summary>
/// Who may see a proposal, in one place; applied before anything is loaded, and a proposal outside it answers 404
/// exactly like one that does not exist.
/// <list type="bullet">
/// <item>Its team (the PI and co-investigators who joined) sees it in every state.</item>
/// <item>Admins (<see cref="Viewer.IsAdmin"/>, from the Admin policy) see every proposal once it is submitted: a draft
/// is its team's alone, so the admin pages never show one (nor its attachments).</item>
/// <item>Nobody else. Reviewers open proposals through the review module's scope (assigned, not conflicted).</item>
/// </list>
/// The team's own pages and actions look with <see cref="Viewer.Applicant"/>, so an admin who is not on the team is
/// refused there like anyone else and uses the admin pages instead.
/// </summary>
public static class ProposalVisibility
{
    public static IQueryable<Proposal> VisibleTo(this IQueryable<Proposal> proposals, Viewer viewer) =>
        viewer.IsAdmin
            ? proposals.Where(p => p.Status != ProposalStatus.Draft || p.Members.Any(m => m.UserId == viewer.UserId))
            : proposals.Where(p => p.Members.Any(m => m.UserId == viewer.UserId));

    /// <summary>
    /// What anyone may see on the public page of awards: an award whose decision was released and whose PI accepted
    /// it and agreed, when accepting, to the listing. Nothing unreleased, declined, waitlisted, withdrawn or unlisted.
    /// </summary>
    public static IQueryable<Proposal> PubliclyListed(this IQueryable<Proposal> proposals) =>
        proposals.Where(p => p.ListedPublicly && p.Status == ProposalStatus.Decided && p.Decision == ProposalDecision.Awarded
            && p.DecisionReleasedAt != null && p.AwardResponse == AwardResponse.Accepted);

    /// <summary>
    /// The open invitations addressed to <paramref name="userId"/>: to the address of their account, once confirmed. What
    /// the invited person may see of them is what the invitation mail said (title, call, who invited), nothing of the draft.
    /// </summary>
    public static IQueryable<ProposalMember> InvitationsTo(this IQueryable<ProposalMember> members, IQueryable<Identity.PortalUser> users, Guid userId) =>
        members.Where(m => m.UserId == null && users.Any(u => u.Id == userId && u.EmailConfirmed && u.NormalizedEmail == m.InvitedEmailNormalized));
}

namespace Meta.ComputeAccess.Proposals;

/// <summary>
/// Who may see a proposal, in one place. A researcher sees the proposals on whose team they are (PI or joined
/// co-investigator); anyone else gets the same 404 as for a proposal that does not exist. Admins use the admin pages.
/// </summary>
public static class ProposalVisibility
{
    public static IQueryable<Proposal> VisibleToMember(this IQueryable<Proposal> proposals, Guid userId) =>
        proposals.Where(p => p.Members.Any(m => m.UserId == userId));
}

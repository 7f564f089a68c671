using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Proposals;

/// <summary>What the screening and decision forms read before acting: nothing of the proposal but where it belongs.</summary>
internal static class ProposalStep
{
    /// <summary>The slug of the proposal's call, or null when there is no such proposal in one of <paramref name="states"/> (404).</summary>
    public static Task<string?> CallSlugAsync(this PortalDbContext db, Guid proposalId, IReadOnlyList<ProposalStatus> states, CancellationToken cancellationToken) =>
        (from p in db.Proposals
         where p.Id == proposalId && states.Contains(p.Status)
         join c in db.Calls on p.CallId equals c.Id
         select c.Slug).SingleOrDefaultAsync(cancellationToken);
}

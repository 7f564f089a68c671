using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Terms;

/// <summary>The current award terms of the proposal's call come with its award; the PI accepts that version to accept it.</summary>
public sealed class CallAwardTerms(PortalDbContext db) : IAwardConditions
{
    /// <summary>The key a PI's acceptance of a version of award terms is kept under (<see cref="AwardCondition.Key"/>).</summary>
    public static string KeyOf(Guid documentId) => $"call-terms:{documentId}";

    public async Task<IReadOnlyList<AwardCondition>> ForAwardAsync(Guid proposalId, CancellationToken cancellationToken)
    {
        var terms = await (from p in db.Proposals.AsNoTracking()
                           join d in db.TermsDocuments on p.CallId equals d.CallId
                           where p.Id == proposalId && d.Kind == TermsKind.AwardTerms
                           orderby d.Version descending
                           select new { d.Id, d.Version, d.TextMarkdown }).FirstOrDefaultAsync(cancellationToken);
        return terms is null ? [] : [new AwardCondition(KeyOf(terms.Id), $"the call's award terms (version {terms.Version})", terms.TextMarkdown)];
    }
}

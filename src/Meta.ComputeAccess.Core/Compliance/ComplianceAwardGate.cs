using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Compliance;

/// <summary>
/// Holds awards while compliance screening has an open or blocked hit on the team. The teams are screened again first,
/// in a unit of work of their own that commits at once: what is found there stays on record even though the award
/// it holds is refused, and the caller's transaction (which has changed nothing yet) is not part of it.
/// </summary>
public sealed class ComplianceAwardGate(PortalDbContext db, IServiceScopeFactory scopes) : IAwardGate
{
    public async Task EnsureClearAsync(IReadOnlyCollection<Guid> proposalIds, AwardStep step, CancellationToken cancellationToken)
    {
        if (proposalIds.Count == 0)
        {
            return;
        }
        await using (var scope = scopes.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<PartyScreening>().ScreenProposalsAsync(proposalIds, cancellationToken);
        }
        var holds = await (from link in db.ComplianceHitLinks.AsNoTracking()
                           join hit in db.ComplianceHits on link.HitId equals hit.Id
                           join p in db.Proposals on link.ProposalId equals p.Id
                           where proposalIds.Contains(p.Id) && hit.Status != ComplianceHitStatus.Cleared
                           select new { p.Title, hit.Status, hit.CountryLevel, hit.Country, hit.Rule }).ToListAsync(cancellationToken);
        if (holds.Count == 0)
        {
            return;
        }
        var what = step == AwardStep.Record ? "recorded" : "released";
        var first = holds.OrderByDescending(h => h.CountryLevel == CountryLevel.Embargoed).ThenByDescending(h => h.Status == ComplianceHitStatus.Blocked).First();
        var titles = holds.Select(h => h.Title).Distinct(StringComparer.Ordinal).ToList();
        var proposals = titles.Count == 1 ? $"“{titles[0]}”" : $"{titles.Count} of the proposals (“{titles[0]}” and others)";
        throw new DomainException(first switch
        {
            { CountryLevel: CountryLevel.Embargoed } => $"The award cannot be {what}: {CountryPolicy.Describe(first.Country!, CountryLevel.Embargoed, first.Rule!)} applies to a member of the team of {proposals}.",
            { Status: ComplianceHitStatus.Blocked } => $"The award cannot be {what}: a compliance officer blocked {proposals} after screening its team.",
            _ => $"The award cannot be {what}: compliance screening holds {proposals} ({holds.Count} open {(holds.Count == 1 ? "hit" : "hits")}). A compliance officer must clear {(holds.Count == 1 ? "it" : "them")} in the compliance queue first.",
        });
    }
}

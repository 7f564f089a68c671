using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Safety;

/// <summary>
/// The safety track's say on an award: one that a safety reviewer rejected can be neither recorded nor released, and a
/// flagged award is not released until a safety reviewer approved it (with or without conditions). Declines and
/// waitlists grant nothing and are not held.
/// </summary>
public sealed class SafetyAwardGate(PortalDbContext db, SafetyTrack track) : IAwardGate
{
    public async Task EnsureClearAsync(IReadOnlyCollection<Guid> proposalIds, AwardStep step, CancellationToken cancellationToken)
    {
        var states = await track.StatesAsync(proposalIds, cancellationToken);
        var held = states.Where(s => step == AwardStep.Release ? !s.Value.SignedOff : s.Value.Outcome == SafetyOutcome.Rejected).ToList();
        if (held.Count == 0)
        {
            return;
        }
        var heldIds = held.Select(h => h.Key).ToList();
        var titles = await db.Proposals.AsNoTracking().Where(p => heldIds.Contains(p.Id)).OrderBy(p => p.Title).Select(p => p.Title).ToListAsync(cancellationToken);
        var what = titles.Count == 1 ? $"“{titles[0]}”" : $"{titles.Count} of the proposals (“{titles[0]}” and others)";
        var rejected = held.FirstOrDefault(h => h.Value.Outcome == SafetyOutcome.Rejected).Value;
        throw new DomainException(rejected is not null
            ? $"The award cannot be {(step == AwardStep.Record ? "recorded" : "released")}: a safety reviewer rejected {what} ({rejected.Text}). Record a decline or a waitlist instead."
            : $"The decisions cannot be released: {what} {(titles.Count == 1 ? "is" : "are")} in the safety track and {(titles.Count == 1 ? "waits" : "wait")} for a safety reviewer's sign-off.");
    }
}

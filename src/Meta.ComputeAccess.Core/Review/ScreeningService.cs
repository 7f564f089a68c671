using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Review;

/// <summary>What the admin decides when screening one proposal.</summary>
public sealed record ScreeningInput(bool Eligible, string EligibilityReason, TechnicalCheck Technical, string TechnicalNote, IReadOnlyDictionary<Guid, decimal> Caps);

/// <summary>
/// Screens a submitted proposal: a pass (or conditional pass) sends it to review, a fail declines it with the reason,
/// released at once, and tells the team. Fixed calls are screened after their deadline, rolling calls as proposals arrive.
/// Saved in one transaction.
/// </summary>
public sealed class ScreeningService(PortalDbContext db, ReviewerPool pool, Notifier notifier, AuditLog audit, TimeProvider clock)
{
    public Task<Screening> ScreenAsync(Guid proposalId, ScreeningInput input, Guid admin, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var proposal = await db.Proposals.Include(p => p.Requests).Include(p => p.Members).AsSplitQuery()
            .SingleOrDefaultAsync(p => p.Id == proposalId, cancellationToken) ?? throw new DomainException("No such proposal.");
        var call = await db.Calls.SingleAsync(c => c.Id == proposal.CallId, cancellationToken);
        var now = clock.GetUtcNow();
        if (call.Kind == CallKind.Fixed && call.IsAcceptingDrafts(now))
        {
            throw new DomainException("Proposals of a fixed-deadline call are screened after the call closes.");
        }
        if (proposal.Status == ProposalStatus.Submitted)
        {
            proposal.StartScreening(admin, now);
        }
        else if (proposal.Status != ProposalStatus.Screening)
        {
            throw new DomainException($"Only submitted proposals are screened; this one is {Proposal.Describe(proposal.Status)}.");
        }
        if (input.Caps.Keys.Any(c => proposal.Requests.All(r => r.ClusterId != c)))
        {
            throw new DomainException("A technical cap names a cluster the proposal did not ask for.");
        }
        var screening = Screening.Record(proposal.Id, input.Eligible, input.EligibilityReason, input.Technical, input.TechnicalNote, input.Caps, admin, now);
        db.Screenings.Add(screening);
        if (screening.Passed)
        {
            proposal.SendToReview(admin, now, screening.Technical == TechnicalCheck.Conditional ? "Screening passed with conditions" : "Screening passed");
            audit.Record(admin, "review.screened", "proposal", proposal.Id.ToString(), $"Screening passed ({screening.Technical}) for {proposal.Title}");
            await pool.FindConflictsAsync(call.Id, cancellationToken);
        }
        else
        {
            var reason = screening.FailureReason();
            proposal.DeclineAtScreening(admin, now, reason);
            audit.Record(admin, "review.screened", "proposal", proposal.Id.ToString(), $"Declined at screening: {proposal.Title}");
            await notifier.NotifyAsync(proposal.Members.Where(m => m.UserId != null).Select(m => m.UserId!.Value), NotificationKinds.DecisionReleased,
                proposal.Title, $"/Proposals/Details/{proposal.Id}", new Dictionary<string, string> { ["outcome"] = "declined at screening" }, cancellationToken);
        }
        return screening;
    }, cancellationToken);
}

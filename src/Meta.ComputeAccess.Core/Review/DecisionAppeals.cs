using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Review;

/// <summary>An appeal as its team and the admins read it.</summary>
public sealed record AppealView(
    Guid AppealId,
    Guid ProposalId,
    string Title,
    string CallTitle,
    ProposalDecision? Decision,
    string Reason,
    DateTimeOffset FiledAt,
    AppealOutcome? Outcome,
    string DecisionReason,
    DateTimeOffset? DecidedAt);

/// <summary>
/// Appeals of released decisions: a team files one per decision, with a reason; admins see the queue and decide each once,
/// with a reason; both sides are told, and the proposal's history keeps both steps. Each write saves in one transaction.
/// </summary>
public sealed class DecisionAppeals(PortalDbContext db, Notifier notifier, AuditLog audit, TimeProvider clock)
{
    /// <summary>Why the team cannot appeal (empty when it can): the one rule for the page and the write.</summary>
    public static string WhyNotAppealable(Proposal proposal, bool appealed)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        if (proposal.DecisionReleasedAt is null)
        {
            return "A decision can be appealed once it is released.";
        }
        return appealed ? "Your team has appealed this decision; a decision is appealed once." : "";
    }

    /// <summary>Files the team's appeal and tells the admins; false when <paramref name="member"/> is not on the team (404).</summary>
    public Task<bool> FileAsync(Guid proposalId, Guid member, string? reason, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var proposal = await db.Proposals.VisibleTo(Viewer.Applicant(member)).SingleOrDefaultAsync(p => p.Id == proposalId, cancellationToken);
        if (proposal is null)
        {
            return false;
        }
        var whyNot = WhyNotAppealable(proposal, await db.DecisionAppeals.AnyAsync(a => a.ProposalId == proposalId, cancellationToken));
        if (whyNot.Length > 0)
        {
            throw new DomainException(whyNot);
        }
        var now = clock.GetUtcNow();
        db.DecisionAppeals.Add(DecisionAppeal.File(proposal.CallId, proposal.Id, member, reason, now));
        proposal.RecordAppealFiled(member, now);
        await notifier.NotifyAdminsAsync(NotificationKinds.AppealFiled, proposal.Title, $"/Admin/Appeals/Decide/{proposal.Id}", null, cancellationToken);
        return true;
    }, cancellationToken);

    /// <summary>Upholds or dismisses the appeal of a proposal's decision, with a reason the team reads, and tells the team.</summary>
    public Task DecideAsync(Guid proposalId, AppealOutcome outcome, string? reason, Guid admin, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var appeal = await db.DecisionAppeals.SingleOrDefaultAsync(a => a.ProposalId == proposalId, cancellationToken)
            ?? throw new DomainException("This proposal's decision has not been appealed.");
        var proposal = await db.Proposals.Include(p => p.Members).SingleAsync(p => p.Id == proposalId, cancellationToken);
        var now = clock.GetUtcNow();
        appeal.Decide(outcome, reason, admin, now);
        proposal.RecordAppealDecided(outcome == AppealOutcome.Upheld, appeal.DecisionReason, admin, now);
        var verdict = outcome == AppealOutcome.Upheld ? "upheld" : "dismissed";
        await notifier.NotifyAsync(proposal.Members.Where(m => m.UserId != null).Select(m => m.UserId!.Value), NotificationKinds.AppealDecided,
            proposal.Title, $"/Proposals/Appeal/{proposal.Id}", new Dictionary<string, string> { ["outcome"] = verdict }, cancellationToken);
        audit.Record(admin, "review.appeal-decided", "proposal", proposal.Id.ToString(), $"Appeal {verdict} for {proposal.Title}");
    }, cancellationToken);

    /// <summary>The appeal of a proposal (admins' pages: the caller's folder policy decides who reads it), or null.</summary>
    public Task<AppealView?> FindAsync(Guid proposalId, CancellationToken cancellationToken) =>
        Views(db.DecisionAppeals.Where(a => a.ProposalId == proposalId)).SingleOrDefaultAsync(cancellationToken);

    /// <summary>The team's appeal of its proposal, or null (none, or <paramref name="member"/> is not on the team).</summary>
    public Task<AppealView?> FindForTeamAsync(Guid proposalId, Guid member, CancellationToken cancellationToken) =>
        Views(db.DecisionAppeals.Where(a => a.ProposalId == proposalId && db.Proposals.VisibleTo(Viewer.Applicant(member)).Any(p => p.Id == a.ProposalId)))
            .SingleOrDefaultAsync(cancellationToken);

    /// <summary>The admins' queue: undecided appeals first (oldest first), then the decided ones, latest first.</summary>
    public async Task<IReadOnlyList<AppealView>> QueueAsync(CancellationToken cancellationToken)
    {
        var all = await Views(db.DecisionAppeals).ToListAsync(cancellationToken);
        return [.. all.Where(a => a.Outcome is null).OrderBy(a => a.FiledAt), .. all.Where(a => a.Outcome is not null).OrderByDescending(a => a.DecidedAt)];
    }

    private IQueryable<AppealView> Views(IQueryable<DecisionAppeal> appeals) =>
        from a in appeals.AsNoTracking()
        join p in db.Proposals on a.ProposalId equals p.Id
        join c in db.Calls on a.CallId equals c.Id
        select new AppealView(a.Id, p.Id, p.Title, c.Title, p.Decision, a.Reason, a.FiledAt, a.Outcome, a.DecisionReason, a.DecidedAt);
}

using System.Globalization;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Review;

/// <summary>What the team sees on its response page: the reviews' comments for it (no names, nothing confidential) and its response.</summary>
public sealed record ResponsePage(
    Guid ProposalId,
    string Title,
    DateTimeOffset? OpenedAt,
    DateTimeOffset? Deadline,
    bool CanRespond,
    string WhyNot,
    IReadOnlyList<string> Comments,
    ReviewResponseView? Response);

/// <summary>A submitted response, for the team, the assigned reviewers and the admins.</summary>
public sealed record ReviewResponseView(string TextMarkdown, DateTimeOffset SubmittedAt);

/// <summary>
/// The applicants' right to reply. A call may have a response phase: once every proposal sent to review has its reviews,
/// an admin opens it until a deadline; the teams read the reviews' comments meant for them and write one response each
/// before the deadline (to the second); the assigned reviewers are told and may revise their reviews with a reason
/// (<see cref="ProposalReview.Revise"/>); the ranking shows the scores before and after. Decisions wait for the deadline.
/// Each write method saves its change in one transaction.
/// </summary>
public sealed class ReviewResponses(PortalDbContext db, Notifier notifier, AuditLog audit, TimeProvider clock)
{
    /// <summary>Opens the call's response phase until <paramref name="deadline"/> and tells the teams of the reviewed proposals.</summary>
    public Task<int> OpenAsync(Guid callId, DateTimeOffset deadline, Guid admin, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var call = await db.Calls.SingleOrDefaultAsync(c => c.Id == callId, cancellationToken) ?? throw new DomainException("No such call.");
        var waiting = await db.Proposals.CountAsync(p => p.CallId == callId && p.Status == ProposalStatus.InReview, cancellationToken);
        if (waiting > 0)
        {
            throw new DomainException($"{English.Count(waiting, "proposal")} still {(waiting == 1 ? "waits" : "wait")} for reviews: open the response phase once the reviews are in.");
        }
        var reviewed = await db.Proposals.Include(p => p.Members)
            .Where(p => p.CallId == callId && p.Status == ProposalStatus.ReviewsComplete).ToListAsync(cancellationToken);
        if (reviewed.Count == 0)
        {
            throw new DomainException("No proposal of this call has its reviews complete and undecided: there is nothing to respond to.");
        }
        var now = clock.GetUtcNow();
        call.OpenResponsePhase(deadline, now);
        var until = deadline.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
        await notifier.NotifyEachAsync(NotificationKinds.ResponseOpen,
        [
            .. reviewed.SelectMany(p => p.Members.Where(m => m.UserId != null).Select(m => m.UserId!.Value).Distinct()
                .Select(u => new Notice(u, p.Title, $"/Proposals/Response/{p.Id}", new Dictionary<string, string> { ["deadline"] = until }))),
        ], cancellationToken);
        audit.Record(admin, "review.response-phase-opened", "call", callId.ToString(), $"Response phase of {call.Title} opened until {until}");
        return reviewed.Count;
    }, cancellationToken);

    /// <summary>The team's response page, or null when <paramref name="member"/> is not on the proposal's team (404).</summary>
    public async Task<ResponsePage?> FindAsync(Guid proposalId, Guid member, CancellationToken cancellationToken)
    {
        var proposal = await db.Proposals.VisibleTo(Viewer.Applicant(member)).AsNoTracking()
            .Where(p => p.Id == proposalId).Select(p => new { p.Id, p.Title, p.Status, p.CallId }).SingleOrDefaultAsync(cancellationToken);
        if (proposal is null)
        {
            return null;
        }
        var call = await db.Calls.AsNoTracking().Where(c => c.Id == proposal.CallId)
            .Select(c => new { c.ResponseOpenedAt, c.ResponseDeadline }).SingleAsync(cancellationToken);
        var comments = await db.Reviews.VisibleToApplicant(member).Where(r => r.ProposalId == proposalId).AsNoTracking()
            .OrderBy(r => r.SubmittedAt).Select(r => r.CommentsForApplicants).ToListAsync(cancellationToken);
        var response = await ResponseOfAsync(proposalId, cancellationToken);
        var whyNot = WhyNot(call.ResponseOpenedAt, call.ResponseDeadline, proposal.Status, response is not null, clock.GetUtcNow());
        return new ResponsePage(proposal.Id, proposal.Title, call.ResponseOpenedAt, call.ResponseDeadline, whyNot.Length == 0, whyNot,
            call.ResponseOpenedAt is null ? [] : comments, response);
    }

    /// <summary>The proposal's response, if its team wrote one (the caller has checked who may read it).</summary>
    public Task<ReviewResponseView?> ResponseOfAsync(Guid proposalId, CancellationToken cancellationToken) =>
        db.ReviewResponses.AsNoTracking().Where(r => r.ProposalId == proposalId)
            .Select(r => new ReviewResponseView(r.TextMarkdown, r.SubmittedAt)).SingleOrDefaultAsync(cancellationToken);

    /// <summary>
    /// Submits the team's one response before the deadline and tells the proposal's assigned reviewers; false when
    /// <paramref name="member"/> is not on the team (404).
    /// </summary>
    public Task<bool> SubmitAsync(Guid proposalId, Guid member, string text, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var proposal = await db.Proposals.VisibleTo(Viewer.Applicant(member)).SingleOrDefaultAsync(p => p.Id == proposalId, cancellationToken);
        if (proposal is null)
        {
            return false;
        }
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == proposal.CallId, cancellationToken);
        var now = clock.GetUtcNow();
        var answered = await db.ReviewResponses.AnyAsync(r => r.ProposalId == proposalId, cancellationToken);
        var whyNot = WhyNot(call.ResponseOpenedAt, call.ResponseDeadline, proposal.Status, answered, now);
        if (whyNot.Length > 0)
        {
            throw new DomainException(whyNot);
        }
        db.ReviewResponses.Add(ReviewResponse.Write(call.Id, proposal.Id, member, text, now));
        proposal.RecordResponse(member, now);
        var reviewers = await db.Reviews.Where(r => r.ProposalId == proposalId && r.SubmittedAt != null).Select(r => r.ReviewerUserId).ToListAsync(cancellationToken);
        await notifier.NotifyAsync(reviewers, NotificationKinds.ResponseSubmitted, proposal.Title, $"/Reviews/Review/{proposal.Id}", null, cancellationToken);
        return true;
    }, cancellationToken);

    /// <summary>
    /// Records that <paramref name="reviewer"/> has read the team's response, when they open their review of the proposal
    /// and a response is there (the dashboard's "responses to read" lists the others). Once: one UPDATE, no load.
    /// </summary>
    public Task<int> MarkReadAsync(Guid proposalId, Guid reviewer, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return db.Reviews.Where(r => r.ProposalId == proposalId && r.ReviewerUserId == reviewer && r.SubmittedAt != null && r.ResponseReadAt == null
                && db.ReviewResponses.Any(x => x.ProposalId == proposalId))
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ResponseReadAt, now), cancellationToken);
    }

    /// <summary>Whether the team may respond now: the rule of the response page and the write, for the researcher's to-do list.</summary>
    public static bool MayRespond(DateTimeOffset? openedAt, DateTimeOffset? deadline, ProposalStatus status, bool answered, DateTimeOffset now) =>
        WhyNot(openedAt, deadline, status, answered, now).Length == 0;

    /// <summary>Why the team cannot respond now (empty when it can): the one rule for the page, the write and the to-do list.</summary>
    private static string WhyNot(DateTimeOffset? openedAt, DateTimeOffset? deadline, ProposalStatus status, bool answered, DateTimeOffset now)
    {
        if (openedAt is null)
        {
            return "This call has no response phase: the reviews are shown with the decision.";
        }
        if (answered)
        {
            return "Your team has responded; a response is written once.";
        }
        if (status != ProposalStatus.ReviewsComplete)
        {
            return "Only a proposal whose reviews are complete and that is not decided can be responded to.";
        }
        if (now >= deadline)
        {
            return "The response phase is over: responses were taken until " + deadline!.Value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC.";
        }
        return "";
    }
}

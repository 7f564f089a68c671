using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Dashboard;

/// <summary>One of the researcher's proposals and what happens to it next.</summary>
/// <param name="Decision">Only once released: applicants never see a decision before.</param>
public sealed record ProposalTodo(
    Guid Id, string Title, string CallTitle, ProposalStatus Status, bool IsPi, DateTimeOffset UpdatedAt,
    DateTimeOffset? CallClosesAt, bool CallTakesDrafts, ProposalDecision? Decision, AwardResponse? AwardResponse)
{
    /// <summary>
    /// The deadline of the call's response phase while the team may still answer the reviews (the phase is open, the
    /// reviews are complete, no response yet); null otherwise.
    /// </summary>
    public DateTimeOffset? RespondBy { get; init; }

    /// <summary>Whether the next step is the researcher's own (finish a draft, answer the reviews, answer an award).</summary>
    public bool NeedsYou => Status == ProposalStatus.Draft && CallTakesDrafts
        || RespondBy is not null
        || Decision == ProposalDecision.Awarded && AwardResponse is null && IsPi;

    /// <summary>The next step in a sentence, from the applicant's side (internal review steps read "under review").</summary>
    public string NextStep => (Status, Decision, AwardResponse) switch
    {
        _ when RespondBy is not null => "The reviews are in: read them and respond before the deadline.",
        (ProposalStatus.Draft, _, _) when !CallTakesDrafts => "The call no longer takes proposals; this draft can only be read.",
        (ProposalStatus.Draft, _, _) when CallClosesAt is null => "Finish and submit it; the call is rolling (no deadline).",
        (ProposalStatus.Draft, _, _) => "Finish and submit it before the deadline.",
        (ProposalStatus.Withdrawn, _, _) => "Withdrawn; nothing more to do.",
        (_, ProposalDecision.Awarded, null) when IsPi => "Awarded: accept or decline the award.",
        (_, ProposalDecision.Awarded, null) => "Awarded: the PI accepts or declines the award.",
        (_, ProposalDecision.Awarded, Meta.ComputeAccess.Proposals.AwardResponse.Accepted) => "Award accepted: its hours are under My allocations.",
        (_, ProposalDecision.Awarded, _) => "Award declined.",
        (_, { } decision, _) => $"{decision.AsWords()}: read the decision and the reviewers' comments.",
        (ProposalStatus.Submitted, _, _) => "Submitted: the program screens it next.",
        _ => "Under review: you hear as soon as the decision is released.",
    };

    /// <summary>The deadline that matters for the next step (a draft's call deadline, the response phase's); null when none does.</summary>
    public DateTimeOffset? Deadline => Status == ProposalStatus.Draft && CallTakesDrafts ? CallClosesAt : RespondBy;

    /// <summary>Where the next step is taken: the response page while the team may respond, else the proposal.</summary>
    public string Link => RespondBy is not null ? $"/Proposals/Response/{Id}" : $"/Proposals/Details/{Id}";

    /// <summary>Things to do first, then work in progress, then what is finished.</summary>
    public int Order => NeedsYou ? 0 : Status is ProposalStatus.Withdrawn || Decision is not null ? 2 : 1;
}

/// <summary>An allocation of the researcher's team, with its balance and a burn-down small enough for a dashboard row.</summary>
public sealed record AllocationTodo(
    Guid Id, string ProjectTitle, string SlurmAccount, AllocationState State, DateOnly StartDate, DateOnly EndDate, decimal Granted, decimal Used, decimal Remaining)
{
    public IReadOnlyList<BurnDownPoint> BurnDown { get; init; } = [];
}

/// <summary>A progress or final report the researcher's team owes on one of its allocations, not submitted yet.</summary>
public sealed record ReportTodo(Guid AllocationId, Guid ReportId, string ProjectTitle, ProgressReportKind Kind, DateOnly DueOn, bool OnRequest)
{
    /// <summary>The list holds reports not submitted yet (status Due), so the rule reads them as such.</summary>
    public bool IsOverdue(DateTimeOffset now) => ProgressReport.IsOverdue(ProgressReportStatus.Due, DueOn, DateOnly.FromDateTime(now.UtcDateTime));
}

/// <summary>A co-investigator invited to one of the researcher's proposals who has not registered yet.</summary>
public sealed record WaitingInvitation(Guid ProposalId, string ProposalTitle, string Email, DateTimeOffset InvitedAt);

/// <summary>
/// The researcher's to-do list (every signed-in user's dashboard): their proposals with the next step and deadline,
/// their allocations with balance, burn-down and expiry, the reports their teams owe, and invitations that still wait. Two queries, read through the
/// modules' scopes (<see cref="ProposalVisibility"/>, <see cref="AllocationVisibility.OnTeamOf"/>); a third, for the
/// burn-downs, only when an allocation is open (<see cref="AllocationReport.BurnDownsAsync"/>).
/// </summary>
public sealed record ResearcherDashboard(
    IReadOnlyList<ProposalTodo> Proposals, IReadOnlyList<AllocationTodo> Allocations, IReadOnlyList<WaitingInvitation> Invitations, int OpenCalls,
    IReadOnlyList<ReportTodo> Reports)
{
    /// <summary>Allocations that ended longer ago than this are history, not a dashboard row.</summary>
    public const int EndedDaysShown = 30;

    public bool IsEmpty => Proposals.Count == 0 && Allocations.Count == 0 && Invitations.Count == 0 && Reports.Count == 0;

    public static async Task<ResearcherDashboard> LoadAsync(PortalDbContext db, Guid me, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var recent = today.AddDays(-EndedDaysShown);
        var mine = db.Proposals.AsNoTracking().VisibleTo(Viewer.Applicant(me));
        var proposals = await mine
            .Select(p => new
            {
                p.Id, p.Title, p.Status, IsPi = p.PiUserId == me, p.UpdatedAt, p.Decision, p.DecisionReleasedAt, p.AwardResponse,
                Call = db.Calls.Where(c => c.Id == p.CallId).Select(c => new { c.Title, c.ClosesAt, c.Status, c.ResponseOpenedAt, c.ResponseDeadline }).First(),
                Responded = db.ReviewResponses.Any(r => r.ProposalId == p.Id),
            })
            .OrderByDescending(p => p.UpdatedAt)
            .ToListAsync(cancellationToken);

        // The open calls, the team's allocations, the reports they owe and the invitations still waiting, in one round
        // trip (a single-row outer query; each list is a handful of rows). A final report may be owed on an allocation
        // that ended long ago, so reports are read over all the team's allocations.
        var teams = db.Allocations.OnTeamOf(me);
        var allocations = teams.Where(a => a.EndDate >= recent);
        var waiting = db.ProposalMembers.Where(m => m.UserId == null && mine.Any(p => p.Id == m.ProposalId && p.Status != ProposalStatus.Withdrawn));
        // Counted as the calls page lists them, so the link's number is what the page shows.
        var openCalls = db.Calls.OpenForProposals(now);
        var summary = await db.Users.AsNoTracking().Where(u => u.Id == me)
            .Select(u => new
            {
                OpenCalls = openCalls.Count(),
                Allocations = allocations.OrderBy(a => a.EndDate)
                    .Select(a => new AllocationTodo(a.Id, a.ProjectTitle, a.SlurmAccount, a.State, a.StartDate, a.EndDate,
                        a.Quotas.Sum(q => q.GrantedHours), a.Quotas.Sum(q => q.UsedHours), a.Quotas.Sum(q => q.GrantedHours - q.UsedHours - q.ExpiredHours)))
                    .ToList(),
                Reports = (from r in db.ProgressReports
                           join a in teams on r.AllocationId equals a.Id
                           where r.Status == ProgressReportStatus.Due
                           orderby r.DueOn
                           select new ReportTodo(a.Id, r.Id, a.ProjectTitle, r.Kind, r.DueOn, r.RequestedBy != null))
                    .ToList(),
                Invitations = waiting.OrderBy(m => m.InvitedAt)
                    .Select(m => new WaitingInvitation(m.ProposalId, db.Proposals.Where(p => p.Id == m.ProposalId).Select(p => p.Title).First(), m.InvitedEmail ?? "", m.InvitedAt))
                    .ToList(),
            })
            .AsSingleQuery()
            .SingleAsync(cancellationToken);

        var burnDowns = await AllocationReport.BurnDownsAsync(db,
            [.. summary.Allocations.Where(a => Allocation.ChargeableStates.Contains(a.State)).Select(a => (a.Id, a.StartDate, a.EndDate))], now, cancellationToken);

        return new ResearcherDashboard(
            [.. proposals
                .Select(p => new ProposalTodo(p.Id, p.Title, p.Call.Title, p.Status, p.IsPi, p.UpdatedAt, p.Call.ClosesAt,
                    Call.AcceptsDrafts(p.Call.Status, p.Call.ClosesAt, now),
                    p.DecisionReleasedAt is null ? null : p.Decision, p.DecisionReleasedAt is null ? null : p.AwardResponse)
                {
                    RespondBy = ReviewResponses.MayRespond(p.Call.ResponseOpenedAt, p.Call.ResponseDeadline, p.Status, p.Responded, now) ? p.Call.ResponseDeadline : null,
                })
                .OrderBy(p => p.Order)],
            [.. summary.Allocations.Select(a => burnDowns.TryGetValue(a.Id, out var points) ? a with { BurnDown = points } : a)],
            summary.Invitations,
            summary.OpenCalls,
            summary.Reports);
    }
}

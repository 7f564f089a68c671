using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Usage;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Dashboard;

/// <summary>What waits for the program in one call, step by step of the review workflow.</summary>
/// <param name="ToScreen">Submitted or being screened (<see cref="ProposalStatusSets.AwaitingScreening"/>).</param>
/// <param name="ConflictsToConfirm">Detected conflicts no admin has confirmed or cleared, on undecided proposals.</param>
/// <param name="NeedReviewers">In review with fewer reviewers assigned than the call asks for.</param>
/// <param name="ToRank">Every assigned review is in: ready for ranking and a decision.</param>
/// <param name="NotReleased">Decided, but the applicants do not know yet.</param>
public sealed record CallQueues(string Slug, string Title, int ToScreen, int ConflictsToConfirm, int NeedReviewers, int ToRank, int NotReleased);

/// <summary>A cluster whose committed hours in a current or coming period are close to what it can grant.</summary>
public sealed record CapacityWarning(Guid PeriodId, string Cluster, string Period, decimal Committed, decimal Grantable)
{
    public int Percent => Grantable <= 0 ? 100 : (int)Math.Floor(Committed / Grantable * 100);
}

/// <summary>
/// The program admin's queues, each with its count and the page that works it off: per call, proposals to screen,
/// conflicts to confirm, proposals needing reviewers, ready for ranking and decisions not released; then requests for
/// more hours, unmatched usage, failed mail and clusters near capacity. One query in a single round trip: the call queues are
/// one grouped count over the open calls' queued proposals, the rest scalar subqueries and small lists; read through the
/// proposals' admin scope.
/// </summary>
/// <param name="QueuedProposals">How many queued proposals the call queues counted: what the count cost (<see cref="AdminDashboardCache"/>).</param>
/// <param name="CountedAt">When the counts were made, if they are not this request's own (<see cref="AdminDashboardCache"/>); null when live.</param>
public sealed record AdminDashboard(
    IReadOnlyList<CallQueues> Calls, int SupplementRequests, Guid? OnlySupplementAllocation, int UnmatchedJobs, decimal UnmatchedHours,
    int FailedMail, IReadOnlyList<CapacityWarning> NearCapacity, int ReportsToAccept = 0, int ReportsOverdue = 0, int QueuedProposals = 0,
    DateTimeOffset? CountedAt = null)
{
    /// <summary>Committed at or above this share of what is grantable counts as near capacity.</summary>
    public const decimal NearCapacityShare = 0.9m;

    /// <summary>The statuses some queue counts: every proposal the grouped count reads is in one of these.</summary>
    private static readonly ProposalStatus[] Queued =
        [ProposalStatus.Submitted, ProposalStatus.Screening, ProposalStatus.InReview, ProposalStatus.ReviewsComplete, ProposalStatus.Decided];

    public bool IsEmpty => Calls.Count == 0 && SupplementRequests == 0 && UnmatchedJobs == 0 && FailedMail == 0 && NearCapacity.Count == 0
        && ReportsToAccept == 0 && ReportsOverdue == 0;

    public static async Task<AdminDashboard> LoadAsync(PortalDbContext db, Viewer admin, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!admin.IsAdmin)
        {
            throw new ArgumentException("The admin queues are for admins only.", nameof(admin));
        }
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var proposals = db.Proposals.VisibleTo(admin);
        var undecided = proposals.Where(p => ProposalStatusSets.Undecided.Contains(p.Status));
        var calls = db.Calls.Where(c => c.Status != CallStatus.Draft && c.Status != CallStatus.Archived);
        var pending = db.SupplementRequests.Where(s => s.Status == SupplementStatus.Pending);
        var unmatched = db.UnmatchedUsage.Where(u => u.Status == UnmatchedUsageStatus.Open);
        var overdue = db.ProgressReports.Where(ProgressReport.OverdueOn(today));
        var queues = await db.Roles.AsNoTracking().Where(r => r.Name == Roles.Admin)
            .Select(_ => new
            {
                // One pass over the queued proposals of the open calls, grouped by call: each proposal is read once (an
                // index range per call and status), where five correlated counts per call read them five times over.
                Calls = (from p in proposals
                         join c in calls on p.CallId equals c.Id
                         where Queued.Contains(p.Status)
                         select new
                         {
                             c.Id,
                             c.Slug,
                             c.Title,
                             c.CreatedAt,
                             p.Status,
                             Unreleased = p.DecisionReleasedAt == null,
                             // Only proposals in review probe their reviews (the reviews' proposal index).
                             ShortOfReviewers = p.Status == ProposalStatus.InReview && db.Reviews.Count(r => r.ProposalId == p.Id) < c.ReviewsPerProposal,
                         })
                    .GroupBy(x => new { x.Id, x.Slug, x.Title, x.CreatedAt })
                    .Select(g => new
                    {
                        g.Key.Id,
                        g.Key.Slug,
                        g.Key.Title,
                        g.Key.CreatedAt,
                        Queued = g.Count(),
                        ToScreen = g.Count(x => ProposalStatusSets.AwaitingScreening.Contains(x.Status)),
                        NeedReviewers = g.Count(x => x.ShortOfReviewers),
                        ToRank = g.Count(x => x.Status == ProposalStatus.ReviewsComplete),
                        NotReleased = g.Count(x => x.Status == ProposalStatus.Decided && x.Unreleased),
                    })
                    .ToList(),
                // Open conflicts on undecided proposals, per open call (a handful of rows).
                Conflicts = db.ReviewConflicts
                    .Where(x => x.Status == ConflictStatus.Open && undecided.Any(p => p.Id == x.ProposalId) && calls.Any(c => c.Id == x.CallId))
                    .GroupBy(x => x.CallId)
                    .Select(g => new { CallId = g.Key, Count = g.Count() })
                    .ToList(),
                Supplements = pending.Count(),
                OnlySupplement = pending.Count() == 1 ? pending.Select(s => (Guid?)s.AllocationId).FirstOrDefault() : null,
                UnmatchedJobs = unmatched.Count(),
                UnmatchedHours = unmatched.Sum(u => (decimal?)u.GpuHours) ?? 0m,
                FailedMail = db.OutboxMessages.Count(m => m.Status == OutboxStatus.Failed),
                ReportsToAccept = db.ProgressReports.Count(r => r.Status == ProgressReportStatus.Submitted),
                ReportsOverdue = overdue.Count(),
                NearCapacity = (from k in db.ClusterCapacities
                                join p in db.AllocationPeriods on k.PeriodId equals p.Id
                                join c in db.Clusters on k.ClusterId equals c.Id
                                where p.EndDate >= today && k.CommittedHours > 0
                                    && k.CommittedHours >= NearCapacityShare * (k.CapacityHours * k.OversubscriptionFactor - k.ReserveHours)
                                orderby p.StartDate, c.Name
                                select new CapacityWarning(p.Id, c.Name, p.Name, k.CommittedHours, k.CapacityHours * k.OversubscriptionFactor - k.ReserveHours))
                               .ToList(),
            })
            .AsSingleQuery()
            .SingleAsync(cancellationToken);
        var conflicts = queues.Conflicts.ToDictionary(c => c.CallId, c => c.Count);
        var rows = queues.Calls
            .OrderBy(c => c.CreatedAt)
            .Select(c => new CallQueues(c.Slug, c.Title, c.ToScreen, conflicts.GetValueOrDefault(c.Id), c.NeedReviewers, c.ToRank, c.NotReleased))
            .Where(c => c.ToScreen + c.ConflictsToConfirm + c.NeedReviewers + c.ToRank + c.NotReleased > 0)
            .ToList();
        return new AdminDashboard(rows, queues.Supplements, queues.OnlySupplement, queues.UnmatchedJobs, queues.UnmatchedHours, queues.FailedMail, queues.NearCapacity,
            queues.ReportsToAccept, queues.ReportsOverdue, queues.Calls.Sum(c => c.Queued));
    }
}

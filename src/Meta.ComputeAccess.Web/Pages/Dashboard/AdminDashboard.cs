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
/// more hours, unmatched usage, failed mail and clusters near capacity. One query (scalar subqueries and two small
/// lists in a single round trip), read through the proposals' admin scope.
/// </summary>
public sealed record AdminDashboard(
    IReadOnlyList<CallQueues> Calls, int SupplementRequests, Guid? OnlySupplementAllocation, int UnmatchedJobs, decimal UnmatchedHours,
    int FailedMail, IReadOnlyList<CapacityWarning> NearCapacity)
{
    /// <summary>Committed at or above this share of what is grantable counts as near capacity.</summary>
    public const decimal NearCapacityShare = 0.9m;

    public bool IsEmpty => Calls.Count == 0 && SupplementRequests == 0 && UnmatchedJobs == 0 && FailedMail == 0 && NearCapacity.Count == 0;

    public static async Task<AdminDashboard> LoadAsync(PortalDbContext db, Viewer admin, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!admin.IsAdmin)
        {
            throw new ArgumentException("The admin queues are for admins only.", nameof(admin));
        }
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var proposals = db.Proposals.VisibleTo(admin);
        var undecided = proposals.Where(p => ProposalStatusSets.Undecided.Contains(p.Status));
        var pending = db.SupplementRequests.Where(s => s.Status == SupplementStatus.Pending);
        var unmatched = db.UnmatchedUsage.Where(u => u.Status == UnmatchedUsageStatus.Open);
        var queues = await db.Roles.AsNoTracking().Where(r => r.Name == Roles.Admin)
            .Select(_ => new
            {
                Calls = db.Calls.Where(c => c.Status != CallStatus.Draft && c.Status != CallStatus.Archived)
                    .Select(c => new
                    {
                        c.Slug,
                        c.Title,
                        c.CreatedAt,
                        ToScreen = proposals.Count(p => p.CallId == c.Id && ProposalStatusSets.AwaitingScreening.Contains(p.Status)),
                        Conflicts = db.ReviewConflicts.Count(x => x.CallId == c.Id && x.Status == ConflictStatus.Open && undecided.Any(p => p.Id == x.ProposalId)),
                        NeedReviewers = proposals.Count(p => p.CallId == c.Id && p.Status == ProposalStatus.InReview
                            && db.Reviews.Count(r => r.ProposalId == p.Id) < c.ReviewsPerProposal),
                        ToRank = proposals.Count(p => p.CallId == c.Id && p.Status == ProposalStatus.ReviewsComplete),
                        NotReleased = proposals.Count(p => p.CallId == c.Id && p.Status == ProposalStatus.Decided && p.DecisionReleasedAt == null),
                    })
                    .Where(c => c.ToScreen + c.Conflicts + c.NeedReviewers + c.ToRank + c.NotReleased > 0)
                    .OrderBy(c => c.CreatedAt)
                    .ToList(),
                Supplements = pending.Count(),
                OnlySupplement = pending.Count() == 1 ? pending.Select(s => (Guid?)s.AllocationId).FirstOrDefault() : null,
                UnmatchedJobs = unmatched.Count(),
                UnmatchedHours = unmatched.Sum(u => (decimal?)u.GpuHours) ?? 0m,
                FailedMail = db.OutboxMessages.Count(m => m.Status == OutboxStatus.Failed),
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
        return new AdminDashboard(
            [.. queues.Calls.Select(c => new CallQueues(c.Slug, c.Title, c.ToScreen, c.Conflicts, c.NeedReviewers, c.ToRank, c.NotReleased))],
            queues.Supplements, queues.OnlySupplement, queues.UnmatchedJobs, queues.UnmatchedHours, queues.FailedMail, queues.NearCapacity);
    }
}

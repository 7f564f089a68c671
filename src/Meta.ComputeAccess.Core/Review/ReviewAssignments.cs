using System.Globalization;
using System.Text.Json;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Review;

/// <summary>
/// Who reviews what. Manual assignment by admins, and automatic runs: the call's open demand and the pool's remaining
/// capacity become an <see cref="AssignmentProblem"/> (affinity from bids and keywords, conflicts as hard exclusions),
/// <see cref="AssignmentSolver"/> solves it, and the run is stored with its inputs, settings, seed and result. The admin
/// edits the proposed pairs and applies them; applying re-checks conflicts and loads and notifies the reviewers.
/// Each public write method saves its change in one transaction.
/// </summary>
public sealed class ReviewAssignments(PortalDbContext db, ReviewerPool pool, Notifier notifier, AuditLog audit, TimeProvider clock)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>The solver's view of a call now: demand, capacity and every candidate pair with its affinity.</summary>
    public async Task<AssignmentProblem> BuildProblemAsync(Guid callId, int seed, CancellationToken cancellationToken)
    {
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == callId, cancellationToken);
        var proposals = await db.Proposals.AsNoTracking()
            .Where(p => p.CallId == callId && ProposalStatusSets.InReview.Contains(p.Status))
            .Select(p => new { p.Id, p.Keywords, Team = p.Members.Where(m => m.UserId != null).Select(m => m.UserId!.Value).ToList() })
            .ToListAsync(cancellationToken);
        var members = await db.ReviewerPool.AsNoTracking().Where(m => m.CallId == callId).ToListAsync(cancellationToken);
        var existing = await db.Reviews.AsNoTracking().Where(r => r.CallId == callId).Select(r => new { r.ProposalId, r.ReviewerUserId }).ToListAsync(cancellationToken);
        var conflicts = (await db.ReviewConflicts.AsNoTracking().Where(c => c.CallId == callId && c.Status != ConflictStatus.Cleared)
            .Select(c => new { c.ProposalId, c.ReviewerUserId }).ToListAsync(cancellationToken)).Select(c => (c.ProposalId, c.ReviewerUserId)).ToHashSet();
        var bids = (await db.ReviewBids.AsNoTracking().Where(b => b.CallId == callId).ToListAsync(cancellationToken))
            .ToDictionary(b => (b.ProposalId, b.ReviewerUserId), b => b.Bid);
        var assigned = existing.Select(e => (e.ProposalId, e.ReviewerUserId)).ToHashSet();
        var perProposal = existing.CountBy(e => e.ProposalId).ToDictionary();
        var perReviewer = existing.CountBy(e => e.ReviewerUserId).ToDictionary();

        var model = new AffinityModel();
        var demand = proposals.Select(p => new ProposalDemand(p.Id, Math.Max(0, call.ReviewsPerProposal - perProposal.GetValueOrDefault(p.Id)))).ToList();
        var capacity = members.Select(m => new ReviewerCapacity(m.UserId, Math.Max(0, m.MaxLoad - perReviewer.GetValueOrDefault(m.UserId)))).ToList();
        var candidates = new List<CandidatePair>();
        foreach (var p in proposals)
        {
            foreach (var m in members)
            {
                if (assigned.Contains((p.Id, m.UserId)))
                {
                    continue;
                }
                var conflicted = conflicts.Contains((p.Id, m.UserId)) || p.Team.Contains(m.UserId);
                var bid = bids.TryGetValue((p.Id, m.UserId), out var b) ? b : (Bid?)null;
                var affinity = model.Compute(bid, m.Keywords, p.Keywords);
                candidates.Add(conflicted || affinity.IsExcluded
                    ? new CandidatePair(p.Id, m.UserId, 0, "conflict of interest: excluded", IsConflict: true)
                    : new CandidatePair(p.Id, m.UserId, affinity.Value, affinity.Explanation));
            }
        }
        return new AssignmentProblem(demand, capacity, candidates, new AssignmentSettings(Seed: seed));
    }

    /// <summary>Detects conflicts, solves, and stores the run: a record of what the solver saw.</summary>
    public Task<AssignmentRun> RunAsync(Guid callId, int seed, Guid admin, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        await pool.FindConflictsAsync(callId, cancellationToken);
        // The problem is read from the database: the conflicts just found first, in the same transaction.
        await db.SaveChangesOrRefuseAsync(ReviewSaving.Conflict, cancellationToken);
        var problem = await BuildProblemAsync(callId, seed, cancellationToken);
        if (problem.Proposals.Count == 0)
        {
            throw new DomainException("No proposals are in review in this call: screen them first.");
        }
        if (problem.Reviewers.Count == 0)
        {
            throw new DomainException("The call's reviewer pool is empty: add reviewers first.");
        }
        var result = new AssignmentSolver().Solve(problem);
        var run = AssignmentRun.Create(callId, admin, seed,
            JsonSerializer.Serialize(new { problem.Settings, Affinity = new AffinitySettings() }, Json),
            JsonSerializer.Serialize(new { problem.Proposals, problem.Reviewers, problem.Candidates }, Json),
            JsonSerializer.Serialize(new { result.Assignments, result.Objective, result.TotalAffinity, result.Shortfalls, result.LoadByReviewer }, Json),
            result.Objective, result.Assignments, clock.GetUtcNow());
        db.AssignmentRuns.Add(run);
        audit.Record(admin, "review.assignment-run", "call", callId.ToString(),
            $"Automatic assignment run (seed {seed}): {English.Count(result.Assignments.Count, "pair")}, {English.Count(result.Shortfalls.Count, "proposal")} short");
        return run;
    }, cancellationToken);

    /// <summary>The shortfalls of a stored run (proposals that could not get all their reviewers), read from its result.</summary>
    public static IReadOnlyList<ProposalShortfall> ShortfallsOf(AssignmentRun run)
    {
        using var doc = JsonDocument.Parse(run.ResultJson);
        return doc.RootElement.TryGetProperty(nameof(AssignmentResult.Shortfalls), out var s)
            ? s.Deserialize<List<ProposalShortfall>>(Json) ?? []
            : [];
    }

    public Task AddPairAsync(Guid runId, Guid proposalId, Guid reviewer, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var run = await RunWithPairsAsync(runId, cancellationToken);
        var problem = await BuildProblemAsync(run.CallId, run.Seed, cancellationToken);
        var candidate = problem.Candidates.FirstOrDefault(c => c.ProposalId == proposalId && c.ReviewerId == reviewer);
        if (candidate == default)
        {
            throw new DomainException("That reviewer cannot be proposed for that proposal (not in the pool, or already assigned).");
        }
        if (candidate.IsConflict)
        {
            throw new DomainException("That reviewer has a conflict of interest with the proposal.");
        }
        run.AddPair(proposalId, reviewer, (decimal)Math.Round(candidate.Affinity, 3), candidate.Reason + "; added by an admin");
    }, cancellationToken);

    public Task RemovePairAsync(Guid runId, Guid proposalId, Guid reviewer, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var run = await RunWithPairsAsync(runId, cancellationToken);
        run.RemovePair(proposalId, reviewer);
    }, cancellationToken);

    /// <summary>
    /// Applies a run's (edited) pairs as assignments, all or nothing; conflicts and maximum loads are checked again. A few
    /// queries for the whole run, however many pairs it has.
    /// </summary>
    public Task<int> ApplyAsync(Guid runId, Guid admin, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var run = await RunWithPairsAsync(runId, cancellationToken);
        if (run.Pairs.Count == 0)
        {
            throw new DomainException("The proposed assignment has no pairs, so there is nothing to apply: add pairs by hand or run the assignment again.");
        }
        var reviews = await AssignAllAsync([.. run.Pairs.OrderBy(p => p.ProposalId).ThenBy(p => p.ReviewerUserId).Select(p => (p.ProposalId, p.ReviewerUserId))],
            admin, run.Id, cancellationToken);
        run.MarkApplied(admin, clock.GetUtcNow());
        audit.Record(admin, "review.assignment-applied", "call", run.CallId.ToString(), $"Applied assignment run {run.Id}: {English.Count(reviews.Count, "review")} assigned");
        return reviews.Count;
    }, cancellationToken);

    /// <summary>Assigns one reviewer by hand (audited, notified).</summary>
    public Task<ProposalReview> AssignAsync(Guid proposalId, Guid reviewer, Guid admin, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var review = (await AssignAllAsync([(proposalId, reviewer)], admin, null, cancellationToken))[0];
        audit.Record(admin, "review.assigned", "proposal", proposalId.ToString(), $"Assigned reviewer {await db.Users.NameOfAsync(reviewer, cancellationToken)} by hand");
        return review;
    }, cancellationToken);

    /// <summary>Removes an assignment whose review was not submitted (audited).</summary>
    public Task UnassignAsync(Guid reviewId, Guid admin, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var review = await db.Reviews.SingleOrDefaultAsync(r => r.Id == reviewId, cancellationToken) ?? throw new DomainException("No such assignment.");
        if (review.IsSubmitted)
        {
            throw new DomainException("The review was submitted; a submitted review stays on record.");
        }
        await RemoveUnsubmittedAsync(db, review, admin, clock.GetUtcNow(), cancellationToken);
        audit.Record(admin, "review.unassigned", "proposal", review.ProposalId.ToString(), $"Unassigned reviewer {await db.Users.NameOfAsync(review.ReviewerUserId, cancellationToken)}");
    }, cancellationToken);

    /// <summary>Sets (or, with null, removes) the call's review deadline, which reviewers are told when assigned and reminded of (audited).</summary>
    public Task SetDeadlineAsync(Guid callId, DateTimeOffset? deadline, Guid admin, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var call = await db.Calls.SingleOrDefaultAsync(c => c.Id == callId, cancellationToken) ?? throw new DomainException("No such call.");
        call.SetReviewDeadline(deadline);
        audit.Record(admin, "review.deadline", "call", callId.ToString(), deadline is null ? "Review deadline removed" : $"Review deadline set to {deadline:u}");
    }, cancellationToken);

    /// <summary>
    /// Removes an unsubmitted review (an admin's unassignment, a conflict): recorded on the proposal while it is in
    /// review, and if every remaining review is in, the proposal is reviewed. Once the proposal is decided the
    /// review is simply dropped: it can no longer matter. Nothing is saved here.
    /// </summary>
    internal static async Task RemoveUnsubmittedAsync(PortalDbContext db, ProposalReview review, Guid actor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        db.Reviews.Remove(review);
        var proposal = await db.Proposals.SingleAsync(p => p.Id == review.ProposalId, cancellationToken);
        if (!ProposalStatusSets.InReview.Contains(proposal.Status))
        {
            return;
        }
        proposal.RecordReviewerChange(false, actor, now);
        var remaining = await db.Reviews.Where(r => r.ProposalId == proposal.Id && r.Id != review.Id).Select(r => r.SubmittedAt != null).ToListAsync(cancellationToken);
        if (proposal.Status == ProposalStatus.InReview && remaining.Count > 0 && remaining.All(s => s))
        {
            proposal.CompleteReviews(null, now);
        }
    }

    private static string Due(DateTimeOffset? deadline) =>
        deadline is { } d ? d.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) : "by the date the program team announces";

    private async Task<AssignmentRun> RunWithPairsAsync(Guid runId, CancellationToken cancellationToken) =>
        await db.AssignmentRuns.Include(r => r.Pairs).SingleOrDefaultAsync(r => r.Id == runId, cancellationToken) ?? throw new DomainException("No such run.");

    /// <summary>
    /// Assigns each (proposal, reviewer) pair in order, refusing the first that is not allowed: the reviewer must be in the
    /// proposal's call's pool, free of conflicts (detected again first), not yet assigned, and under their maximum load.
    /// Reviewers are notified.
    /// Reads everything it checks in a few set-based queries, whatever the number of pairs; writes in the caller's transaction.
    /// </summary>
    private async Task<IReadOnlyList<ProposalReview>> AssignAllAsync(IReadOnlyList<(Guid ProposalId, Guid Reviewer)> pairs, Guid admin, Guid? runId, CancellationToken cancellationToken)
    {
        var proposalIds = pairs.Select(p => p.ProposalId).Distinct().ToList();
        var reviewerIds = pairs.Select(p => p.Reviewer).Distinct().ToList();
        var proposals = await db.Proposals.Include(p => p.Members).Where(p => proposalIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, cancellationToken);
        var callIds = proposals.Values.Select(p => p.CallId).Distinct().ToList();
        // What changed since the last detection (a declared collaborator, a profile) binds now: detect, then read the conflicts.
        foreach (var callId in callIds)
        {
            await pool.FindConflictsAsync(callId, cancellationToken);
        }
        await db.SaveChangesOrRefuseAsync(ReviewSaving.Conflict, cancellationToken);
        var deadlines = await db.Calls.Where(c => callIds.Contains(c.Id)).Select(c => new { c.Id, c.ReviewDeadline }).ToDictionaryAsync(c => c.Id, c => c.ReviewDeadline, cancellationToken);
        var members = await (from m in db.ReviewerPool
                             where callIds.Contains(m.CallId) && reviewerIds.Contains(m.UserId)
                             join u in db.Users on m.UserId equals u.Id
                             select new { m.CallId, m.UserId, m.MaxLoad, u.FullName })
            .ToDictionaryAsync(m => (m.CallId, m.UserId), cancellationToken);
        var conflicted = (await db.ReviewConflicts
                .Where(c => proposalIds.Contains(c.ProposalId) && reviewerIds.Contains(c.ReviewerUserId) && c.Status != ConflictStatus.Cleared)
                .Select(c => new { c.ProposalId, c.ReviewerUserId }).ToListAsync(cancellationToken))
            .Select(c => (c.ProposalId, c.ReviewerUserId)).ToHashSet();
        var existing = await db.Reviews.Where(r => callIds.Contains(r.CallId) && reviewerIds.Contains(r.ReviewerUserId))
            .Select(r => new { r.CallId, r.ProposalId, r.ReviewerUserId }).ToListAsync(cancellationToken);
        var assigned = existing.Select(r => (r.ProposalId, r.ReviewerUserId)).ToHashSet();
        var loads = existing.CountBy(r => (r.CallId, r.ReviewerUserId)).ToDictionary();

        var now = clock.GetUtcNow();
        var reviews = new List<ProposalReview>();
        var notices = new List<Notice>();
        foreach (var (proposalId, reviewer) in pairs)
        {
            var proposal = proposals.GetValueOrDefault(proposalId) ?? throw new DomainException("No such proposal.");
            var member = members.GetValueOrDefault((proposal.CallId, reviewer)) ?? throw new DomainException("The reviewer is not in this call's pool.");
            if (proposal.IsMember(reviewer) || conflicted.Contains((proposalId, reviewer)))
            {
                throw new DomainException($"{member.FullName} has a conflict of interest with “{proposal.Title}” and cannot review it.");
            }
            if (!assigned.Add((proposalId, reviewer)))
            {
                throw new DomainException($"{member.FullName} is already assigned to “{proposal.Title}”.");
            }
            var load = loads.GetValueOrDefault((proposal.CallId, reviewer));
            if (load >= member.MaxLoad)
            {
                throw new DomainException($"{member.FullName} already has {load} reviews in this call, their maximum load.");
            }
            loads[(proposal.CallId, reviewer)] = load + 1;
            proposal.RecordReviewerChange(true, admin, now);
            var review = ProposalReview.Assign(proposal.CallId, proposalId, reviewer, admin, runId, now);
            db.Reviews.Add(review);
            reviews.Add(review);
            notices.Add(new Notice(reviewer, proposal.Title, $"/Reviews/Review/{proposalId}", new Dictionary<string, string> { ["due"] = Due(deadlines[proposal.CallId]) }));
        }
        await notifier.NotifyEachAsync(NotificationKinds.ReviewAssigned, notices, cancellationToken);
        return reviews;
    }
}

using System.Globalization;
using System.Text.Json;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Review;

/// <summary>
/// Who reviews what. Manual assignment by admins, and automatic runs: the call's open demand and the pool's remaining
/// capacity become an <see cref="AssignmentProblem"/> (affinity from bids and keywords, conflicts as hard exclusions),
/// <see cref="AssignmentSolver"/> solves it, and the run is stored with its inputs, settings, seed and result. The admin
/// edits the proposed pairs and applies them; applying re-checks conflicts and loads and notifies the reviewers.
/// </summary>
public sealed class ReviewAssignments(PortalDbContext db, ReviewerPool pool, Notifier notifier, AuditLog audit, TimeProvider clock)
{
    private static readonly ProposalStatus[] Assignable = [ProposalStatus.InReview, ProposalStatus.ReviewsComplete];
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>The solver's view of a call now: demand, capacity and every candidate pair with its affinity.</summary>
    public async Task<AssignmentProblem> BuildProblemAsync(Guid callId, int seed, CancellationToken cancellationToken)
    {
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == callId, cancellationToken);
        var proposals = await db.Proposals.AsNoTracking()
            .Where(p => p.CallId == callId && Assignable.Contains(p.Status))
            .Select(p => new { p.Id, p.Keywords, Team = p.Members.Where(m => m.UserId != null).Select(m => m.UserId!.Value).ToList() })
            .ToListAsync(cancellationToken);
        var members = await db.ReviewerPool.AsNoTracking().Where(m => m.CallId == callId).ToListAsync(cancellationToken);
        var existing = await db.Reviews.AsNoTracking().Where(r => r.CallId == callId).Select(r => new { r.ProposalId, r.ReviewerUserId }).ToListAsync(cancellationToken);
        var conflicts = (await db.ReviewConflicts.AsNoTracking().Where(c => c.CallId == callId && c.Status != ConflictStatus.Cleared)
            .Select(c => new { c.ProposalId, c.ReviewerUserId }).ToListAsync(cancellationToken)).Select(c => (c.ProposalId, c.ReviewerUserId)).ToHashSet();
        var bids = (await db.ReviewBids.AsNoTracking().Where(b => b.CallId == callId).ToListAsync(cancellationToken))
            .ToDictionary(b => (b.ProposalId, b.ReviewerUserId), b => b.Bid);
        var assigned = existing.Select(e => (e.ProposalId, e.ReviewerUserId)).ToHashSet();

        var model = new AffinityModel();
        var demand = proposals.Select(p => new ProposalDemand(p.Id, Math.Max(0, call.ReviewsPerProposal - existing.Count(e => e.ProposalId == p.Id)))).ToList();
        var capacity = members.Select(m => new ReviewerCapacity(m.UserId, Math.Max(0, m.MaxLoad - existing.Count(e => e.ReviewerUserId == m.UserId)))).ToList();
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

    /// <summary>Detects conflicts, solves, and stores the run (saved here: the run is a record of what the solver saw).</summary>
    public async Task<AssignmentRun> RunAsync(Guid callId, int seed, Guid admin, CancellationToken cancellationToken)
    {
        await pool.DetectAsync(callId, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
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
            $"Automatic assignment run (seed {seed}): {result.Assignments.Count} pairs, {result.Shortfalls.Count} proposals short");
        await db.SaveChangesAsync(cancellationToken);
        return run;
    }

    /// <summary>The shortfalls of a stored run (proposals that could not get all their reviewers), read from its result.</summary>
    public static IReadOnlyList<ProposalShortfall> ShortfallsOf(AssignmentRun run)
    {
        using var doc = JsonDocument.Parse(run.ResultJson);
        return doc.RootElement.TryGetProperty(nameof(AssignmentResult.Shortfalls), out var s)
            ? s.Deserialize<List<ProposalShortfall>>(Json) ?? []
            : [];
    }

    public async Task AddPairAsync(Guid runId, Guid proposalId, Guid reviewer, CancellationToken cancellationToken)
    {
        var run = await db.AssignmentRuns.Include(r => r.Pairs).SingleOrDefaultAsync(r => r.Id == runId, cancellationToken) ?? throw new DomainException("No such run.");
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
    }

    public async Task RemovePairAsync(Guid runId, Guid proposalId, Guid reviewer, CancellationToken cancellationToken)
    {
        var run = await db.AssignmentRuns.Include(r => r.Pairs).SingleOrDefaultAsync(r => r.Id == runId, cancellationToken) ?? throw new DomainException("No such run.");
        run.RemovePair(proposalId, reviewer);
    }

    /// <summary>Applies a run's (edited) pairs as assignments, in one transaction; conflicts and maximum loads are checked again.</summary>
    public async Task<int> ApplyAsync(Guid runId, Guid admin, CancellationToken cancellationToken)
    {
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var run = await db.AssignmentRuns.Include(r => r.Pairs).SingleOrDefaultAsync(r => r.Id == runId, cancellationToken) ?? throw new DomainException("No such run.");
        var count = 0;
        foreach (var pair in run.Pairs.OrderBy(p => p.ProposalId).ThenBy(p => p.ReviewerUserId))
        {
            await AssignCoreAsync(pair.ProposalId, pair.ReviewerUserId, admin, run.Id, cancellationToken);
            count++;
        }
        run.MarkApplied(admin, clock.GetUtcNow());
        audit.Record(admin, "review.assignment-applied", "call", run.CallId.ToString(), $"Applied assignment run {run.Id}: {count} reviews assigned");
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return count;
    }

    /// <summary>Assigns one reviewer by hand (audited, notified). Nothing is saved here.</summary>
    public async Task<ProposalReview> AssignAsync(Guid proposalId, Guid reviewer, Guid admin, CancellationToken cancellationToken)
    {
        var review = await AssignCoreAsync(proposalId, reviewer, admin, null, cancellationToken);
        audit.Record(admin, "review.assigned", "proposal", proposalId.ToString(), $"Assigned reviewer {reviewer} by hand");
        return review;
    }

    /// <summary>Removes an assignment whose review was not submitted (audited). Nothing is saved here.</summary>
    public async Task UnassignAsync(Guid reviewId, Guid admin, CancellationToken cancellationToken)
    {
        var review = await db.Reviews.SingleOrDefaultAsync(r => r.Id == reviewId, cancellationToken) ?? throw new DomainException("No such assignment.");
        if (review.IsSubmitted)
        {
            throw new DomainException("The review was submitted; a submitted review stays on record.");
        }
        await RemoveUnsubmittedAsync(db, review, admin, clock.GetUtcNow(), cancellationToken);
        audit.Record(admin, "review.unassigned", "proposal", review.ProposalId.ToString(), $"Unassigned reviewer {review.ReviewerUserId}");
    }

    /// <summary>
    /// Removes an unsubmitted review (an admin's unassignment, a conflict): recorded on the proposal while it is in
    /// review, and if every remaining review is in, the proposal is reviewed. Once the proposal is decided the
    /// review is simply dropped: it can no longer matter. Nothing is saved here.
    /// </summary>
    internal static async Task RemoveUnsubmittedAsync(PortalDbContext db, ProposalReview review, Guid actor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        db.Reviews.Remove(review);
        var proposal = await db.Proposals.SingleAsync(p => p.Id == review.ProposalId, cancellationToken);
        if (proposal.Status is not (ProposalStatus.InReview or ProposalStatus.ReviewsComplete))
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

    private async Task<ProposalReview> AssignCoreAsync(Guid proposalId, Guid reviewer, Guid admin, Guid? runId, CancellationToken cancellationToken)
    {
        var proposal = await db.Proposals.Include(p => p.Members).SingleOrDefaultAsync(p => p.Id == proposalId, cancellationToken) ?? throw new DomainException("No such proposal.");
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == proposal.CallId, cancellationToken);
        var member = await db.ReviewerPool.AsNoTracking().SingleOrDefaultAsync(m => m.CallId == call.Id && m.UserId == reviewer, cancellationToken)
            ?? throw new DomainException("The reviewer is not in this call's pool.");
        var name = await db.Users.Where(u => u.Id == reviewer).Select(u => u.FullName).SingleAsync(cancellationToken);
        if (proposal.IsMember(reviewer) || await db.ReviewConflicts.AnyAsync(c => c.ProposalId == proposalId && c.ReviewerUserId == reviewer && c.Status != ConflictStatus.Cleared, cancellationToken))
        {
            throw new DomainException($"{name} has a conflict of interest with “{proposal.Title}” and cannot review it.");
        }
        if (await db.Reviews.AnyAsync(r => r.ProposalId == proposalId && r.ReviewerUserId == reviewer, cancellationToken)
            || db.Reviews.Local.Any(r => r.ProposalId == proposalId && r.ReviewerUserId == reviewer))
        {
            throw new DomainException($"{name} is already assigned to “{proposal.Title}”.");
        }
        var load = await db.Reviews.CountAsync(r => r.CallId == call.Id && r.ReviewerUserId == reviewer, cancellationToken)
            + db.Reviews.Local.Count(r => r.CallId == call.Id && r.ReviewerUserId == reviewer && db.Entry(r).State == EntityState.Added);
        if (load >= member.MaxLoad)
        {
            throw new DomainException($"{name} already has {load} reviews in this call, their maximum load.");
        }
        var now = clock.GetUtcNow();
        proposal.RecordReviewerChange(true, admin, now);
        var review = ProposalReview.Assign(call.Id, proposalId, reviewer, admin, runId, now);
        db.Reviews.Add(review);
        await notifier.NotifyAsync(reviewer, NotificationKinds.ReviewAssigned, proposal.Title, $"/Reviews/Review/{proposalId}",
            new Dictionary<string, string> { ["due"] = Due(call) }, cancellationToken);
        return review;
    }

    public static string Due(Call call) =>
        call.ReviewDeadline is { } d ? d.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) : "by the date the program team announces";
}

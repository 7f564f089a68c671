using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Calls;

/// <summary>Who reviews what: current assignments (manual add and remove), and automatic runs to inspect, edit and apply.</summary>
public sealed class AssignmentModel(PortalDbContext db, ReviewAssignments assignments) : CallStepPageModel(db)
{
    public sealed record Assigned(Guid ReviewId, string Reviewer, bool Submitted);

    public sealed record ProposalLine(Guid Id, string Title, ProposalStatus Status, IReadOnlyList<Assigned> Reviewers);

    public sealed record PairLine(Guid ProposalId, string Proposal, Guid ReviewerId, string Reviewer, decimal Affinity, string Reason, bool AddedByAdmin);

    public sealed record ShortfallLine(string Proposal, string Reason);

    public string Slug { get; private set; } = "";

    public string CallTitle { get; private set; } = "";

    public int ReviewsPerProposal { get; private set; }

    public IReadOnlyList<ProposalLine> Proposals { get; private set; } = [];

    public IReadOnlyList<(Guid Id, string Name)> Reviewers { get; private set; } = [];

    public AssignmentRun? Run { get; private set; }

    public IReadOnlyList<PairLine> Pairs { get; private set; } = [];

    public IReadOnlyList<ShortfallLine> Shortfalls { get; private set; } = [];

    public Task<IActionResult> OnPostRunAsync(string slug, int seed, CancellationToken cancellationToken) =>
        ActAsync(slug, async callId =>
        {
            var run = await assignments.RunAsync(callId, seed, User.GetUserId(), cancellationToken);
            return run.Pairs.Count == 0
                ? "The run proposes no assignment: no proposal needs a reviewer the pool can give (see the shortfalls below)."
                : $"Proposed {English.Count(run.Pairs.Count, "assignment")}. Check them, edit if needed, then apply.";
        }, cancellationToken);

    public Task<IActionResult> OnPostRemovePairAsync(string slug, Guid runId, Guid proposalId, Guid reviewerId, CancellationToken cancellationToken) =>
        ActAsync(slug, async _ =>
        {
            await assignments.RemovePairAsync(runId, proposalId, reviewerId, cancellationToken);
            return "Removed from the proposed assignment.";
        }, cancellationToken);

    public Task<IActionResult> OnPostAddPairAsync(string slug, Guid runId, Guid proposalId, Guid reviewerId, CancellationToken cancellationToken) =>
        ActAsync(slug, async _ =>
        {
            await assignments.AddPairAsync(runId, proposalId, reviewerId, cancellationToken);
            return "Added to the proposed assignment.";
        }, cancellationToken);

    public Task<IActionResult> OnPostApplyAsync(string slug, Guid runId, CancellationToken cancellationToken) =>
        ActAsync(slug, async _ => $"Applied: {English.Count(await assignments.ApplyAsync(runId, User.GetUserId(), cancellationToken), "review")} assigned and the reviewers notified.", cancellationToken);

    public Task<IActionResult> OnPostAssignAsync(string slug, Guid proposalId, Guid reviewerId, CancellationToken cancellationToken) =>
        ActAsync(slug, async _ =>
        {
            await assignments.AssignAsync(proposalId, reviewerId, User.GetUserId(), cancellationToken);
            return "Reviewer assigned and notified.";
        }, cancellationToken);

    public Task<IActionResult> OnPostUnassignAsync(string slug, Guid reviewId, CancellationToken cancellationToken) =>
        ActAsync(slug, async _ =>
        {
            await assignments.UnassignAsync(reviewId, User.GetUserId(), cancellationToken);
            return "Reviewer unassigned.";
        }, cancellationToken);

    protected override async Task LoadAsync(Guid callId, CancellationToken cancellationToken)
    {
        var call = await Db.Calls.AsNoTracking().SingleAsync(c => c.Id == callId, cancellationToken);
        Slug = call.Slug;
        CallTitle = call.Title;
        ReviewsPerProposal = call.ReviewsPerProposal;
        var names = await (from m in Db.ReviewerPool where m.CallId == callId join u in Db.Users on m.UserId equals u.Id orderby u.FullName select new { u.Id, u.FullName })
            .ToListAsync(cancellationToken);
        Reviewers = [.. names.Select(n => (n.Id, n.FullName))];
        var reviews = await (from r in Db.Reviews.AsNoTracking()
                             where r.CallId == callId
                             join u in Db.Users on r.ReviewerUserId equals u.Id
                             select new { r.Id, r.ProposalId, u.FullName, r.SubmittedAt })
            .ToListAsync(cancellationToken);
        // Every proposal in review, and those reviewed or decided since that had reviewers assigned.
        var proposals = await Db.Proposals.AsNoTracking()
            .Where(p => p.CallId == callId && ProposalStatusSets.Decidable.Contains(p.Status) && (p.Status == ProposalStatus.InReview || Db.Reviews.Any(r => r.ProposalId == p.Id)))
            .OrderBy(p => p.Title).Select(p => new { p.Id, p.Title, p.Status })
            .ToListAsync(cancellationToken);
        Proposals = [.. proposals.Select(p => new ProposalLine(p.Id, p.Title, p.Status,
            [.. reviews.Where(r => r.ProposalId == p.Id).OrderBy(r => r.FullName).Select(r => new Assigned(r.Id, r.FullName, r.SubmittedAt != null))]))];
        Run = await Db.AssignmentRuns.AsNoTracking().Include(r => r.Pairs).Where(r => r.CallId == callId && r.AppliedAt == null)
            .OrderByDescending(r => r.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        if (Run is not null)
        {
            var titles = await Db.Proposals.AsNoTracking().Where(p => p.CallId == callId).ToDictionaryAsync(p => p.Id, p => p.Title, cancellationToken);
            var reviewerNames = names.ToDictionary(n => n.Id, n => n.FullName);
            Pairs = [.. Run.Pairs.OrderBy(p => titles.GetValueOrDefault(p.ProposalId)).ThenBy(p => reviewerNames.GetValueOrDefault(p.ReviewerUserId))
                .Select(p => new PairLine(p.ProposalId, titles.GetValueOrDefault(p.ProposalId, "?"), p.ReviewerUserId, reviewerNames.GetValueOrDefault(p.ReviewerUserId, "?"), p.Affinity, p.Reason, p.AddedByAdmin))];
            Shortfalls = [.. ReviewAssignments.ShortfallsOf(Run).Select(s => new ShortfallLine(titles.GetValueOrDefault(s.ProposalId, "?"), s.Reason))];
        }
    }
}

using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Pages.Shared;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>The team's view of a proposal: content, team, attachments, timeline, and withdraw.</summary>
public sealed class DetailsModel(PortalDbContext db, ProposalEditing editing, ReviewDecisions decisions, TimeProvider clock) : PageModel
{
    public ProposalView View { get; private set; } = null!;

    public IReadOnlyList<ProposalView.HistoryLine> Timeline { get; private set; } = [];

    public bool CanEdit { get; private set; }

    public bool CanWithdraw { get; private set; }

    public DateTimeOffset Now { get; private set; }

    /// <summary>The released decision's awarded hours per cluster name; empty before release.</summary>
    public IReadOnlyList<(string Cluster, decimal Hours)> Awards { get; private set; } = [];

    /// <summary>Reviewers' comments for the applicants, without names, once the decision is released.</summary>
    public IReadOnlyList<string> ReviewComments { get; private set; } = [];

    public bool CanRespondToAward { get; private set; }

    /// <summary>What comes with the award (the call's award terms, a safety reviewer's conditions): to accept, or as accepted.</summary>
    public IReadOnlyList<AwardCondition> Conditions { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        var me = User.GetUserId();
        var mine = db.Proposals.VisibleTo(Viewer.Applicant(me));
        if (await ProposalView.LoadAsync(db, mine, id, cancellationToken) is not { } view)
        {
            return NotFound();
        }
        View = view;
        Now = clock.GetUtcNow();
        var p = view.Proposal;
        CanEdit = p.IsEditable && view.Call.IsAcceptingDrafts(Now);
        CanWithdraw = p.Status != ProposalStatus.Withdrawn && p.DecisionReleasedAt is null;
        Timeline = view.ApplicantTimeline();
        if (p.DecisionReleasedAt is not null)
        {
            Awards = [.. p.Awards.Select(a => (view.Requests.FirstOrDefault(r => r.ClusterId == a.ClusterId)?.Cluster ?? "?", a.Hours))];
            CanRespondToAward = p.Decision == ProposalDecision.Awarded && p.AwardResponse is null && p.PiUserId == me;
            if (p.Decision == ProposalDecision.Awarded)
            {
                // Once accepted, the conditions as the PI accepted them; before, the current ones.
                Conditions = p.AwardResponse == AwardResponse.Accepted
                    ? await db.AwardConditionAcceptances.AsNoTracking().Where(a => a.ProposalId == id).OrderBy(a => a.Id)
                        .Select(a => new AwardCondition(a.Key, a.Title, a.Text)).ToListAsync(cancellationToken)
                    : await decisions.ConditionsAsync(id, cancellationToken);
            }
            // Applicants read reviews only once the decision is released (the query enforces it too).
            ReviewComments = await db.Reviews.VisibleToApplicant(me).Where(r => r.ProposalId == id).AsNoTracking().OrderBy(r => r.SubmittedAt)
                .Select(r => r.CommentsForApplicants).ToListAsync(cancellationToken);
        }
        return Page();
    }

    /// <param name="accepted">The keys of the conditions the PI ticked (<see cref="Conditions"/>).</param>
    /// <param name="listPublicly">The PI agrees to list the award on the public page (<c>/Awards</c>) with <paramref name="publicSummary"/>.</param>
    /// <param name="showUsage">The hours used are shown there too.</param>
    public Task<IActionResult> OnPostAcceptAsync(Guid id, string[]? accepted, bool listPublicly, bool showUsage, string? publicSummary, CancellationToken cancellationToken) =>
        this.RunButtonAsync(() => decisions.RespondAsync(id, accept: true, User.GetUserId(), accepted ?? [], cancellationToken, listPublicly ? new PublicListing(publicSummary ?? "", showUsage) : null),
            listPublicly ? "Award accepted and listed on the public page of awards. Your allocation is being set up." : "Award accepted. Your allocation is being set up.", new { id });

    public Task<IActionResult> OnPostDeclineAwardAsync(Guid id, CancellationToken cancellationToken) =>
        this.RunButtonAsync(() => decisions.RespondAsync(id, accept: false, User.GetUserId(), cancellationToken), "Award declined.", new { id });

    public Task<IActionResult> OnPostWithdrawAsync(Guid id, string? reason, CancellationToken cancellationToken) =>
        this.RunButtonAsync(() => editing.WithdrawAsync(id, User.GetUserId(), reason, cancellationToken), "The proposal is withdrawn.", new { id });
}

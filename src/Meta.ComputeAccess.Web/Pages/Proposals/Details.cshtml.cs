using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>The team's view of a proposal: content, team, attachments, timeline, and withdraw.</summary>
public sealed class DetailsModel(PortalDbContext db, ReviewDecisions decisions, TimeProvider clock) : PageModel
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

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        var me = User.GetUserId();
        if (await ProposalView.LoadAsync(db, db.Proposals.VisibleToMember(me), id, cancellationToken) is not { } view)
        {
            return NotFound();
        }
        View = view;
        Now = clock.GetUtcNow();
        var p = view.Proposal;
        CanEdit = p.IsEditable && view.Call.IsAcceptingDrafts(Now);
        CanWithdraw = p.Status != ProposalStatus.Withdrawn && p.DecisionReleasedAt is null;
        var team = view.Team.Where(t => t.UserId is not null).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        // Applicants see when things happened, not who inside the program did them, and no decision before release.
        Timeline = [.. view.Timeline
            .Where(h => p.DecisionReleasedAt is not null || h.To != ProposalStatus.Decided)
            .Select(h => h with { Actor = h.Actor is not null && team.Contains(h.Actor) ? h.Actor : null })];
        if (p.DecisionReleasedAt is not null)
        {
            var awards = await db.ProposalAwards.AsNoTracking().Where(a => a.ProposalId == id).ToListAsync(cancellationToken);
            Awards = [.. awards.Select(a => (view.Requests.FirstOrDefault(r => r.ClusterId == a.ClusterId)?.Cluster ?? "?", a.Hours))];
            CanRespondToAward = p.Decision == ProposalDecision.Awarded && p.AwardResponse is null && p.PiUserId == me;
            // Applicants read reviews only once the decision is released (the query enforces it too).
            ReviewComments = await db.Reviews.VisibleToApplicant(me).Where(r => r.ProposalId == id).AsNoTracking().OrderBy(r => r.SubmittedAt)
                .Select(r => r.CommentsForApplicants).ToListAsync(cancellationToken);
        }
        return Page();
    }

    public Task<IActionResult> OnPostAcceptAsync(Guid id, CancellationToken cancellationToken) => RespondAsync(id, accept: true, cancellationToken);

    public Task<IActionResult> OnPostDeclineAwardAsync(Guid id, CancellationToken cancellationToken) => RespondAsync(id, accept: false, cancellationToken);

    private async Task<IActionResult> RespondAsync(Guid id, bool accept, CancellationToken cancellationToken)
    {
        try
        {
            if (!await decisions.RespondAsync(id, accept, User.GetUserId(), cancellationToken))
            {
                return NotFound();
            }
            await db.SaveChangesAsync(cancellationToken);
            TempData.Status(accept ? "Award accepted. Your allocation is being set up." : "Award declined.");
        }
        catch (DomainException ex)
        {
            TempData.Error(ex.Message);
        }
        return RedirectToPage(new { id });
    }

    public async Task<IActionResult> OnPostWithdrawAsync(Guid id, string? reason, CancellationToken cancellationToken)
    {
        var me = User.GetUserId();
        var proposal = await db.Proposals.VisibleToMember(me).SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (proposal is null)
        {
            return NotFound();
        }
        try
        {
            proposal.Withdraw(me, clock.GetUtcNow(), reason?.Trim());
            await db.SaveChangesAsync(cancellationToken);
            TempData.Status("The proposal is withdrawn.");
        }
        catch (DomainException ex)
        {
            TempData.Error(ex.Message);
        }
        return RedirectToPage(new { id });
    }
}

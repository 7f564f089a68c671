using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Meta.ComputeAccess.Web.Pages.Shared;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Reviews;

/// <summary>
/// The review form for an assigned proposal, with the proposal itself. Other reviews appear (anonymously) only once the
/// reviewer's own is submitted. Anything not in <see cref="ReviewVisibility.AssignedTo"/> answers 404.
/// </summary>
public sealed class ReviewModel(PortalDbContext db, ReviewWriting writing, ReviewerPool pool, ReviewResponses responses, TimeProvider clock) : PageModel
{
    public sealed record OtherReview(int Number, int? Overall, int? Confidence, IReadOnlyDictionary<Guid, int> Scores, string ForApplicants);

    public ProposalView View { get; private set; } = null!;

    public bool ShowTeam { get; private set; }

    public bool Submitted { get; private set; }

    public bool PhaseOpen { get; private set; }

    public DateTimeOffset Now { get; private set; }

    public IReadOnlyDictionary<Guid, decimal> Caps { get; private set; } = new Dictionary<Guid, decimal>();

    public IReadOnlyList<OtherReview> Others { get; private set; } = [];

    /// <summary>The applicants' response to the reviews, once they wrote one (calls with a response phase).</summary>
    public ReviewResponseView? ApplicantResponse { get; private set; }

    /// <summary>The call's response phase has opened: a change to the submitted review is a revision with a reason.</summary>
    public bool Revising { get; private set; }

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public sealed class InputModel
    {
        public Dictionary<Guid, int?> Scores { get; set; } = [];

        public int? Overall { get; set; }

        public int? Confidence { get; set; }

        public Dictionary<Guid, decimal?> Hours { get; set; } = [];

        public string CommentsForApplicants { get; set; } = "";

        public string ConfidentialComments { get; set; } = "";

        public string RevisionReason { get; set; } = "";
    }

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await writing.FindOwnAsync(id, User.GetUserId(), cancellationToken) is not { } review)
        {
            return NotFound();
        }
        Input = new InputModel
        {
            Scores = review.Scores.ToDictionary(s => s.CriterionId, s => (int?)s.Score),
            Overall = review.Overall,
            Confidence = review.Confidence,
            Hours = review.Recommendations.ToDictionary(h => h.ClusterId, h => (decimal?)h.Hours),
            CommentsForApplicants = review.CommentsForApplicants,
            ConfidentialComments = review.ConfidentialComments,
        };
        await LoadAsync(id, review.IsSubmitted, cancellationToken);
        if (ApplicantResponse is not null && review.IsSubmitted)
        {
            // Opening the review is reading the team's response shown on it: it leaves the dashboard's "responses to
            // read". Only then is there anything to mark, so other opens write nothing.
            await responses.MarkReadAsync(id, User.GetUserId(), cancellationToken);
        }
        return Page();
    }

    public Task<IActionResult> OnPostSaveAsync(Guid id, CancellationToken cancellationToken) => SaveAsync(id, submit: false, cancellationToken);

    public Task<IActionResult> OnPostSubmitAsync(Guid id, CancellationToken cancellationToken) => SaveAsync(id, submit: true, cancellationToken);

    public async Task<IActionResult> OnPostConflictAsync(Guid id, string? reason, CancellationToken cancellationToken)
    {
        var me = User.GetUserId();
        if (!await db.Proposals.AssignedTo(me).AnyAsync(p => p.Id == id, cancellationToken))
        {
            return NotFound();
        }
        return await this.RunAsync(
            async () =>
            {
                await pool.DeclareConflictAsync(id, me, reason ?? "", cancellationToken);
                TempData.Status("Conflict declared: the proposal was removed from your reviews.");
                return RedirectToPage("Index");
            },
            () => ReloadAsync(id, cancellationToken));
    }

    private Task<IActionResult> SaveAsync(Guid id, bool submit, CancellationToken cancellationToken)
    {
        var content = new ReviewContent(Input.Scores, Input.Overall, Input.Confidence, Input.Hours, Input.CommentsForApplicants ?? "", Input.ConfidentialComments ?? "", Input.RevisionReason ?? "");
        return this.RunAsync(
            async () =>
            {
                var saved = await writing.SaveAsync(id, User.GetUserId(), content, submit, cancellationToken);
                if (saved == ReviewSaved.NotVisible)
                {
                    return NotFound();
                }
                TempData.Status(saved switch
                {
                    ReviewSaved.Draft => "Draft saved.",
                    ReviewSaved.Revised => "Review revised; your reason and the score before it are kept.",
                    _ => "Review submitted. You can now read the other reviews of this proposal.",
                });
                return RedirectToPage(new { id });
            },
            () => ReloadAsync(id, cancellationToken),
            fieldPrefix: "Input.");
    }

    /// <summary>The form again, as the reviewer filled it in, after a refused action.</summary>
    private async Task<IActionResult> ReloadAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await writing.FindOwnAsync(id, User.GetUserId(), cancellationToken) is not { } own)
        {
            return NotFound();
        }
        await LoadAsync(id, own.IsSubmitted, cancellationToken);
        return Page();
    }

    private async Task LoadAsync(Guid id, bool submitted, CancellationToken cancellationToken)
    {
        var me = User.GetUserId();
        View = (await ProposalView.LoadAsync(db, db.Proposals.AssignedTo(me), id, cancellationToken))!;
        ShowTeam = ReviewVisibility.ShowsTeamToReviewers(View.Call.ReviewMode);
        Submitted = submitted;
        PhaseOpen = ProposalStatusSets.InReview.Contains(View.Proposal.Status);
        Now = clock.GetUtcNow();
        Caps = (await writing.LimitsAsync(id, cancellationToken)).Caps;
        var others = await db.Reviews.OthersVisibleTo(me).Where(r => r.ProposalId == id).AsNoTracking().Include(r => r.Scores).OrderBy(r => r.SubmittedAt)
            .Select(r => new { r.Overall, r.Confidence, r.Scores, r.CommentsForApplicants }).ToListAsync(cancellationToken);
        ApplicantResponse = await responses.ResponseOfAsync(id, cancellationToken);
        Revising = submitted && View.Call.ResponseOpenedAt is not null;
        Others = [.. others.Select((r, i) => new OtherReview(i + 1, r.Overall, r.Confidence, r.Scores.ToDictionary(s => s.CriterionId, s => s.Score), r.CommentsForApplicants))];
    }
}

using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Meta.ComputeAccess.Web.Pages.Shared;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Proposals;

/// <summary>The program's view of one proposal's reviews (with names and confidential comments) and its decision.</summary>
public sealed class DecideModel(PortalDbContext db, ReviewDecisions decisions, ReviewRanking ranking) : PageModel
{
    public sealed record ReviewLine(string Reviewer, bool Submitted, int? Overall, int? Confidence, IReadOnlyDictionary<Guid, int> Scores, IReadOnlyDictionary<Guid, decimal> Hours, string ForApplicants, string Confidential);

    public ProposalView View { get; private set; } = null!;

    public IReadOnlyList<ReviewLine> Reviews { get; private set; } = [];

    public Screening? Screening { get; private set; }

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public sealed class InputModel
    {
        public ProposalDecision Decision { get; set; }

        [Display(Name = "Message to the applicants")]
        [StringLength(4000)]
        public string Message { get; set; } = "";

        public List<ClusterHoursInput> Hours { get; set; } = [];
    }

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        var p = View.Proposal;
        Input.Decision = p.Decision ?? ProposalDecision.Awarded;
        Input.Message = p.DecisionMessage;
        IReadOnlyList<AwardedHours> defaults = [.. p.Awards.Select(a => new AwardedHours(a.ClusterId, a.Hours))];
        if (defaults.Count == 0)
        {
            // Not ranked (declined at screening): no default to offer.
            defaults = (await ranking.DefaultAwardsAsync(p.CallId, [p.Id], cancellationToken)).GetValueOrDefault(p.Id) ?? [];
        }
        Input.Hours = [.. p.Requests.Select(r => new ClusterHoursInput { ClusterId = r.ClusterId, Hours = defaults.FirstOrDefault(d => d.ClusterId == r.ClusterId)?.Hours ?? 0 })];
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(Guid id, CancellationToken cancellationToken)
    {
        // Only what the action needs: that the proposal is decidable, and where to go afterwards.
        var slug = await db.CallSlugAsync(id, ProposalStatusSets.Decidable, cancellationToken);
        if (slug is null)
        {
            return NotFound();
        }
        if (Input.Decision == ProposalDecision.Declined && string.IsNullOrWhiteSpace(Input.Message))
        {
            ModelState.AddModelError("Input.Message", "A decline needs a message to the applicants.");
        }
        if (!ModelState.IsValid)
        {
            return await ReloadAsync(id, cancellationToken);
        }
        IReadOnlyList<AwardedHours>? hours = Input.Decision == ProposalDecision.Awarded
            ? [.. Input.Hours.Select(h => new AwardedHours(h.ClusterId, h.Hours ?? 0))]
            : null;
        return await this.RunAsync(
            async () =>
            {
                await decisions.DecideAsync(id, Input.Decision, hours, Input.Message, User.GetUserId(), cancellationToken);
                TempData.Status("Decision recorded. It reaches the applicants when decisions are released from the ranking page.");
                return RedirectToPage("/Admin/Calls/Ranking", new { slug });
            },
            () => ReloadAsync(id, cancellationToken));
    }

    private async Task<IActionResult> ReloadAsync(Guid id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await ProposalView.LoadAsync(db, db.Proposals.Where(p => ProposalStatusSets.Decidable.Contains(p.Status)), id, cancellationToken) is not { } view)
        {
            return false;
        }
        View = view;
        Screening = await db.Screenings.AsNoTracking().SingleOrDefaultAsync(s => s.ProposalId == id, cancellationToken);
        var reviews = await db.Reviews.AsNoTracking().Include(r => r.Scores).Include(r => r.Recommendations).AsSplitQuery()
            .Where(r => r.ProposalId == id).ToListAsync(cancellationToken);
        var reviewerIds = reviews.Select(r => r.ReviewerUserId).ToList();
        var names = await db.Users.AsNoTracking().Where(u => reviewerIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.FullName, cancellationToken);
        Reviews = [.. reviews.OrderBy(r => r.AssignedAt).Select(r => new ReviewLine(names.GetValueOrDefault(r.ReviewerUserId, "?"), r.IsSubmitted, r.Overall, r.Confidence,
            r.Scores.ToDictionary(s => s.CriterionId, s => s.Score), r.Recommendations.ToDictionary(h => h.ClusterId, h => h.Hours), r.CommentsForApplicants, r.ConfidentialComments))];
        return true;
    }
}

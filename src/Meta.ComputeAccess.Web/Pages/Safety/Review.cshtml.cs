using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Safety;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Pages.Shared;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Safety;

/// <summary>
/// A proposal in the safety track as a safety reviewer reads it (content, team, data-and-safety statement; never the
/// peer reviews or their scores), its sign-offs so far, and the sign-off form.
/// </summary>
public sealed class ReviewModel(PortalDbContext db, SafetyTrack track) : PageModel
{
    public sealed record PastDecision(SafetyOutcome Outcome, string Text, string Reviewer, DateTimeOffset At);

    public sealed class InputModel
    {
        [Required(ErrorMessage = "Choose approve, approve with conditions or reject.")]
        public SafetyOutcome? Outcome { get; set; }

        [StringLength(SafetyDecision.MaxTextLength)]
        public string Text { get; set; } = "";

        /// <summary>The sign-off shown with the form (none: empty), so a decision taken meanwhile is not overwritten unseen.</summary>
        public long? BasedOn { get; set; }
    }

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public ProposalView View { get; private set; } = null!;

    public SafetyState State { get; private set; } = null!;

    public IReadOnlyList<PastDecision> History { get; private set; } = [];

    public bool CanDecide { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        Input = new InputModel { Outcome = State.Outcome, Text = State.Text, BasedOn = State.DecisionId };
        return Page();
    }

    public Task<IActionResult> OnPostAsync(Guid id, CancellationToken cancellationToken) =>
        this.RunAsync(async () =>
        {
            if (!ModelState.IsValid)
            {
                return await ShowAsync(id, cancellationToken);
            }
            if (!await track.DecideAsync(id, Input.Outcome!.Value, Input.Text, Input.BasedOn, User.GetUserId(), cancellationToken))
            {
                return NotFound();
            }
            TempData.Status(Input.Outcome switch
            {
                SafetyOutcome.Approved => "Approved: its award may be released.",
                SafetyOutcome.ApprovedWithConditions => "Approved with conditions: the PI must accept them with the award.",
                _ => "Rejected: the proposal cannot be awarded.",
            });
            return RedirectToPage(new { id });
        }, () => ShowAsync(id, cancellationToken), fieldPrefix: $"{nameof(Input)}.");

    private async Task<IActionResult> ShowAsync(Guid id, CancellationToken cancellationToken)
    {
        var posted = Input;
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        // A refusal because someone decided meanwhile shows their decision; the next post is based on it.
        posted.BasedOn = State.DecisionId;
        Input = posted;
        return Page();
    }

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await ProposalView.LoadAsync(db, track.ForReviewer(User.GetUserId()), id, cancellationToken) is not { } view)
        {
            return false;
        }
        View = view;
        State = (await track.StatesAsync([id], cancellationToken))[id];
        History = await (from d in db.SafetyDecisions.AsNoTracking()
                         join u in db.Users on d.DecidedByUserId equals u.Id
                         where d.ProposalId == id
                         orderby d.Id descending
                         select new PastDecision(d.Outcome, d.Text, u.FullName, d.DecidedAt)).ToListAsync(cancellationToken);
        var p = view.Proposal;
        CanDecide = p.Status != Meta.ComputeAccess.Proposals.ProposalStatus.Withdrawn && p.DecisionReleasedAt is null;
        return true;
    }
}

using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Pages.Shared;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>The PI invites co-investigators by email and removes them; co-investigators can see the team.</summary>
public sealed class TeamModel(PortalDbContext db, ProposalTeam team) : PageModel
{
    public ProposalView View { get; private set; } = null!;

    public bool IsPi { get; private set; }

    [BindProperty]
    [Required(ErrorMessage = "Enter the co-investigator's email address.")]
    [EmailAddress(ErrorMessage = "Enter a valid email address.")]
    [StringLength(254)]
    public string Email { get; set; } = "";

    public Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken) => ShowAsync(id, cancellationToken);

    public async Task<IActionResult> OnPostInviteAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid)
        {
            return await ShowAsync(id, cancellationToken);
        }
        return await this.RunAsync(async () =>
        {
            if (await team.InviteAsync(id, User.GetUserId(), Email, cancellationToken) is not { } invitation)
            {
                return NotFound();
            }
            TempData.Status($"Invitation sent to {invitation.Email}. They join the team if they accept it.");
            return RedirectToPage(new { id });
        }, () => ShowAsync(id, cancellationToken), field: nameof(Email));
    }

    public Task<IActionResult> OnPostRemoveAsync(Guid id, Guid memberId, CancellationToken cancellationToken) =>
        this.RunButtonAsync(() => team.RemoveAsync(id, User.GetUserId(), memberId, cancellationToken), "Removed from the team.", new { id });

    private async Task<IActionResult> ShowAsync(Guid id, CancellationToken cancellationToken)
    {
        var me = User.GetUserId();
        if (await ProposalView.LoadAsync(db, db.Proposals.VisibleTo(Viewer.Applicant(me)), id, cancellationToken) is not { } view)
        {
            return NotFound();
        }
        View = view;
        IsPi = view.Proposal.PiUserId == me;
        return Page();
    }
}

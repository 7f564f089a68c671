using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>The PI invites co-investigators by email and removes them; co-investigators can see the team.</summary>
public sealed class TeamModel(PortalDbContext db, UserManager<PortalUser> users, Notifier notifier, TimeProvider clock) : PageModel
{
    public ProposalView View { get; private set; } = null!;

    public bool IsPi { get; private set; }

    [BindProperty]
    [Required(ErrorMessage = "Enter the co-investigator's email address.")]
    [EmailAddress(ErrorMessage = "Enter a valid email address.")]
    [StringLength(254)]
    public string Email { get; set; } = "";

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    public async Task<IActionResult> OnPostInviteAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        if (!IsPi)
        {
            return Forbid();
        }
        if (!ModelState.IsValid)
        {
            return Page();
        }
        var proposal = await db.Proposals.Include(p => p.Members).SingleAsync(p => p.Id == id, cancellationToken);
        var invitee = await users.FindByEmailAsync(Email.Trim());
        var existing = invitee is { EmailConfirmed: true } ? invitee.Id : (Guid?)null;
        try
        {
            proposal.InviteCoInvestigator(Email, existing, User.GetUserId(), clock.GetUtcNow());
        }
        catch (DomainException ex)
        {
            ModelState.AddModelError(nameof(Email), ex.Message);
            return Page();
        }
        var inviter = User.FindFirst(PortalClaimsFactory.FullNameClaim)?.Value ?? "A colleague";
        var values = new Dictionary<string, string> { ["inviter"] = inviter, ["call"] = View.Call.Title };
        if (existing is { } userId)
        {
            values["action"] = "Open the proposal:";
            await notifier.NotifyAsync(userId, NotificationKinds.CoInvestigatorInvited, proposal.Title, $"/Proposals/Details/{id}", values, cancellationToken);
        }
        else
        {
            // Not registered yet: no account, no preferences; the invitation goes straight to the address.
            values["action"] = "Create an account with this email address to join the team (you join as soon as you confirm the address):";
            notifier.MailAddress(Email.Trim(), NotificationKinds.CoInvestigatorInvited, proposal.Title, "/Account/Register", values);
        }
        await db.SaveChangesAsync(cancellationToken);
        TempData.Status(existing is null
            ? $"Invitation sent to {Email.Trim()}. They join the team when they register with that address."
            : $"{Email.Trim()} is now on the team.");
        return RedirectToPage(new { id });
    }

    public async Task<IActionResult> OnPostRemoveAsync(Guid id, Guid memberId, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        if (!IsPi)
        {
            return Forbid();
        }
        var proposal = await db.Proposals.Include(p => p.Members).SingleAsync(p => p.Id == id, cancellationToken);
        try
        {
            proposal.RemoveMember(memberId, User.GetUserId(), clock.GetUtcNow());
            await db.SaveChangesAsync(cancellationToken);
            TempData.Status("Removed from the team.");
        }
        catch (DomainException ex)
        {
            TempData.Error(ex.Message);
        }
        return RedirectToPage(new { id });
    }

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        var me = User.GetUserId();
        if (await ProposalView.LoadAsync(db, db.Proposals.VisibleToMember(me), id, cancellationToken) is not { } view)
        {
            return false;
        }
        View = view;
        IsPi = view.Proposal.PiUserId == me;
        return true;
    }
}

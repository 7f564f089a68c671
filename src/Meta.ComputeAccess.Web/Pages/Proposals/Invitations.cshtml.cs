using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>
/// Invitations to join a proposal's team, addressed to the signed-in user's confirmed address: accept or decline each.
/// Until accepted, the invited person sees only what the invitation said (<see cref="ProposalVisibility.InvitationsTo"/>).
/// </summary>
public sealed class InvitationsModel(PortalDbContext db, ProposalTeam team) : PageModel
{
    public sealed record Invitation(Guid MemberId, string Title, string Call, string InvitedBy, DateTimeOffset InvitedAt, bool Open);

    public IReadOnlyList<Invitation> Invitations { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) => Invitations = await ListAsync(db, User.GetUserId(), cancellationToken);

    public Task<IActionResult> OnPostAcceptAsync(Guid memberId, CancellationToken cancellationToken) =>
        this.RunButtonAsync(() => team.AcceptAsync(memberId, User.GetUserId(), cancellationToken), "Invitation accepted: you are on the team.", new { });

    public Task<IActionResult> OnPostDeclineAsync(Guid memberId, CancellationToken cancellationToken) =>
        this.RunButtonAsync(() => team.DeclineAsync(memberId, User.GetUserId(), cancellationToken), "Invitation declined.", new { });

    /// <summary>The open invitations to <paramref name="me"/>, newest first; <see cref="Invitation.Open"/> is false once the draft was submitted.</summary>
    public static Task<List<Invitation>> ListAsync(PortalDbContext db, Guid me, CancellationToken cancellationToken) =>
        (from m in db.ProposalMembers.AsNoTracking().InvitationsTo(db.Users, me)
         join p in db.Proposals on m.ProposalId equals p.Id
         join c in db.Calls on p.CallId equals c.Id
         join u in db.Users on p.PiUserId equals u.Id
         orderby m.InvitedAt descending
         select new Invitation(m.Id, p.Title, c.Title, u.FullName, m.InvitedAt, p.Status == ProposalStatus.Draft))
        .ToListAsync(cancellationToken);
}

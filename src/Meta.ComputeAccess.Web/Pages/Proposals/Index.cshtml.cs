using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>The proposals on whose team the signed-in researcher is.</summary>
public sealed class IndexModel(PortalDbContext db) : PageModel
{
    public sealed record Row(Guid Id, string Title, string CallTitle, ProposalStatus Status, bool IsPi, DateTimeOffset UpdatedAt, DateTimeOffset? SubmittedAt, ProposalDecision? Decision, DateTimeOffset? Released);

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    /// <summary>Invitations to join a team that wait for the user's answer.</summary>
    public int Invitations { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var me = User.GetUserId();
        Rows = await MineAsync(db, me, cancellationToken);
        Invitations = await db.ProposalMembers.InvitationsTo(db.Users, me).CountAsync(cancellationToken);
    }

    public static Task<List<Row>> MineAsync(PortalDbContext db, Guid me, CancellationToken cancellationToken) =>
        db.Proposals.AsNoTracking().VisibleTo(Viewer.Applicant(me))
            .OrderByDescending(p => p.UpdatedAt)
            .Select(p => new Row(p.Id, p.Title, db.Calls.Where(c => c.Id == p.CallId).Select(c => c.Title).First(), p.Status, p.PiUserId == me, p.UpdatedAt, p.SubmittedAt, p.Decision, p.DecisionReleasedAt))
            .ToListAsync(cancellationToken);
}

using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Safety;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Safety;

/// <summary>The safety track: submitted proposals that need a safety reviewer's sign-off, and where each stands.</summary>
public sealed class IndexModel(PortalDbContext db, SafetyTrack track) : PageModel
{
    public const int MaxRows = 200;

    public sealed record Row(Guid Id, string Title, string Call, ProposalStatus Status, bool Released, DateTimeOffset? SubmittedAt, SafetyState State);

    /// <summary>Waiting for a sign-off (the default), or every proposal in the track.</summary>
    [BindProperty(SupportsGet = true)]
    public bool All { get; set; }

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var rows = await (from p in track.ForReviewer(User.GetUserId()).AsNoTracking()
                          join c in db.Calls on p.CallId equals c.Id
                          where All || (p.Status != ProposalStatus.Withdrawn && p.DecisionReleasedAt == null && !db.SafetyDecisions.Any(d => d.ProposalId == p.Id))
                          orderby p.SubmittedAt descending, p.Id
                          select new { p.Id, p.Title, Call = c.Title, p.Status, Released = p.DecisionReleasedAt != null, p.SubmittedAt })
            .Take(MaxRows).ToListAsync(cancellationToken);
        var states = await track.StatesAsync([.. rows.Select(r => r.Id)], cancellationToken);
        Rows = [.. rows.Select(r => new Row(r.Id, r.Title, r.Call, r.Status, r.Released, r.SubmittedAt, states[r.Id]))];
    }
}

using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Calls;

public sealed class IndexModel(PortalDbContext db) : PageModel
{
    public sealed record Row(string Slug, string Title, CallStatus Status, CallKind Kind, DateTimeOffset OpensAt, DateTimeOffset? ClosesAt, int Submitted, int Drafts);

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Rows = await db.Calls.AsNoTracking()
            .OrderBy(c => c.Status == CallStatus.Archived).ThenByDescending(c => c.OpensAt)
            .Select(c => new Row(c.Slug, c.Title, c.Status, c.Kind, c.OpensAt, c.ClosesAt,
                db.Proposals.Count(p => p.CallId == c.Id && p.Status != ProposalStatus.Draft && p.Status != ProposalStatus.Withdrawn),
                db.Proposals.Count(p => p.CallId == c.Id && p.Status == ProposalStatus.Draft)))
            .ToListAsync(cancellationToken);
}

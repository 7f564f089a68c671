using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Calls;

/// <summary>Published calls a researcher can apply to, soonest deadline first.</summary>
public sealed class IndexModel(PortalDbContext db, TimeProvider clock) : PageModel
{
    public sealed record Row(string Slug, string Title, CallKind Kind, DateTimeOffset OpensAt, DateTimeOffset? ClosesAt, int Clusters);

    public IReadOnlyList<Row> Open { get; private set; } = [];

    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Now = clock.GetUtcNow();
        var now = Now;
        Open = await db.Calls.AsNoTracking().OpenForProposals(now)
            .OrderBy(c => c.ClosesAt == null).ThenBy(c => c.ClosesAt).ThenBy(c => c.Title)
            .Select(c => new Row(c.Slug, c.Title, c.Kind, c.OpensAt, c.ClosesAt, c.Clusters.Count))
            .ToListAsync(cancellationToken);
    }
}

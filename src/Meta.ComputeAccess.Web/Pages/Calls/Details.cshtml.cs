using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Calls;

public sealed class DetailsModel(PortalDbContext db, TimeProvider clock) : PageModel
{
    public Call Call { get; private set; } = null!;

    public Dictionary<Guid, string> ClusterNames { get; private set; } = [];

    public DateTimeOffset Now { get; private set; }

    public async Task<IActionResult> OnGetAsync(string slug, CancellationToken cancellationToken)
    {
        // Drafts are invisible to researchers: 404 as for a call that does not exist.
        if (await db.Calls.AsNoTracking().SingleOrDefaultAsync(c => c.Slug == slug && c.Status != CallStatus.Draft, cancellationToken) is not { } call)
        {
            return NotFound();
        }
        Call = call;
        Now = clock.GetUtcNow();
        var ids = call.Clusters.Select(c => c.ClusterId).ToList();
        ClusterNames = await db.Clusters.AsNoTracking().Where(c => ids.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => $"{c.Name} ({c.AcceleratorModel})", cancellationToken);
        return Page();
    }
}

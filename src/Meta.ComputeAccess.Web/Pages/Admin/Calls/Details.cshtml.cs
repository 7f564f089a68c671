using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Calls;

/// <summary>A call at a glance, with its state transitions (open, close, archive); a refused one is shown on the page.</summary>
public sealed class DetailsModel(PortalDbContext db, CallAdministration calls, TimeProvider clock) : PageModel
{
    public Call Call { get; private set; } = null!;

    /// <summary>The names of the clusters the call offers.</summary>
    public Dictionary<Guid, string> ClusterNames { get; private set; } = [];

    public Dictionary<ProposalStatus, int> Counts { get; private set; } = [];

    public DateTimeOffset Now { get; private set; }

    public Task<IActionResult> OnGetAsync(string slug, CancellationToken cancellationToken) => ShowAsync(slug, cancellationToken);

    public Task<IActionResult> OnPostOpenAsync(string slug, CancellationToken cancellationToken) =>
        TransitionAsync(slug, calls.OpenAsync, "Opened.", cancellationToken);

    public Task<IActionResult> OnPostCloseAsync(string slug, CancellationToken cancellationToken) =>
        TransitionAsync(slug, calls.CloseAsync, "Closed.", cancellationToken);

    public Task<IActionResult> OnPostArchiveAsync(string slug, CancellationToken cancellationToken) =>
        TransitionAsync(slug, calls.ArchiveAsync, "Archived.", cancellationToken);

    private Task<IActionResult> TransitionAsync(string slug, Func<string, Guid, CancellationToken, Task> transition, string done, CancellationToken cancellationToken) =>
        this.RunAsync(async () =>
        {
            await transition(slug, User.GetUserId(), cancellationToken);
            TempData.Status(done);
            return RedirectToPage(new { slug });
        }, () => ShowAsync(slug, cancellationToken));

    private async Task<IActionResult> ShowAsync(string slug, CancellationToken cancellationToken)
    {
        if (await db.Calls.AsNoTracking().SingleOrDefaultAsync(c => c.Slug == slug, cancellationToken) is not { } call)
        {
            return NotFound();
        }
        Call = call;
        Now = clock.GetUtcNow();
        var offered = call.Clusters.Select(c => c.ClusterId).ToList();
        ClusterNames = await db.Clusters.AsNoTracking().Where(c => offered.Contains(c.Id))
            .Select(c => new { c.Id, c.Name }).ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        Counts = await db.Proposals.Where(p => p.CallId == call.Id).GroupBy(p => p.Status)
            .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        return Page();
    }
}

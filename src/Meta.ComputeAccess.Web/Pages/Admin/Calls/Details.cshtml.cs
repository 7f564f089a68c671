using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Calls;

/// <summary>A call at a glance, with its state transitions (open, close, archive).</summary>
public sealed class DetailsModel(PortalDbContext db, AuditLog audit, TimeProvider clock) : PageModel
{
    public Call Call { get; private set; } = null!;

    public Dictionary<Guid, string> ClusterNames { get; private set; } = [];

    public Dictionary<ProposalStatus, int> Counts { get; private set; } = [];

    public DateTimeOffset Now { get; private set; }

    public async Task<IActionResult> OnGetAsync(string slug, CancellationToken cancellationToken)
    {
        if (await db.Calls.AsNoTracking().SingleOrDefaultAsync(c => c.Slug == slug, cancellationToken) is not { } call)
        {
            return NotFound();
        }
        Call = call;
        Now = clock.GetUtcNow();
        ClusterNames = await db.Clusters.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        Counts = await db.Proposals.Where(p => p.CallId == call.Id).GroupBy(p => p.Status)
            .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        return Page();
    }

    public Task<IActionResult> OnPostOpenAsync(string slug, CancellationToken cancellationToken) =>
        TransitionAsync(slug, (call, now) => call.Open(now), "call.opened", "Opened", cancellationToken);

    public Task<IActionResult> OnPostCloseAsync(string slug, CancellationToken cancellationToken) =>
        TransitionAsync(slug, (call, now) => call.Close(now), "call.closed", "Closed", cancellationToken);

    public Task<IActionResult> OnPostArchiveAsync(string slug, CancellationToken cancellationToken) =>
        TransitionAsync(slug, (call, _) => call.Archive(), "call.archived", "Archived", cancellationToken);

    private async Task<IActionResult> TransitionAsync(string slug, Action<Call, DateTimeOffset> transition, string action, string verb, CancellationToken cancellationToken)
    {
        if (await db.Calls.SingleOrDefaultAsync(c => c.Slug == slug, cancellationToken) is not { } call)
        {
            return NotFound();
        }
        try
        {
            transition(call, clock.GetUtcNow());
            audit.Record(User.GetUserId(), action, "call", call.Id.ToString(), $"{verb} call {call.Title}");
            await db.SaveChangesAsync(cancellationToken);
            TempData.Status($"{verb}.");
        }
        catch (DomainException ex)
        {
            TempData.Error(ex.Message);
        }
        return RedirectToPage(new { slug });
    }
}

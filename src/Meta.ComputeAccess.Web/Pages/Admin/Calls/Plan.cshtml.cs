using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Calls;

/// <summary>The award planner over the calibrated ranking: each line explains itself; the plan can be adopted as decisions.</summary>
public sealed class PlanModel(PortalDbContext db, AwardPlanning planning) : PageModel
{
    public string Slug { get; private set; } = "";

    public string CallTitle { get; private set; } = "";

    public CallAwardPlan Plan { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(string slug, CancellationToken cancellationToken)
    {
        if (await db.Calls.AsNoTracking().Where(c => c.Slug == slug).Select(c => new { c.Id, c.Title }).SingleOrDefaultAsync(cancellationToken) is not { } call)
        {
            return NotFound();
        }
        Slug = slug;
        CallTitle = call.Title;
        Plan = await planning.BuildAsync(call.Id, cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostAdoptAsync(string slug, CancellationToken cancellationToken)
    {
        var callId = await db.Calls.AsNoTracking().Where(c => c.Slug == slug).Select(c => (Guid?)c.Id).SingleOrDefaultAsync(cancellationToken);
        if (callId is null)
        {
            return NotFound();
        }
        try
        {
            var count = await planning.AdoptAsync(callId.Value, User.GetUserId(), cancellationToken);
            TempData.Status($"The plan is recorded as {count} decisions. Edit any of them, then release them together from the ranking.");
            return RedirectToPage("Ranking", new { slug });
        }
        catch (DomainException ex)
        {
            TempData.Error(ex.Message);
            return RedirectToPage(new { slug });
        }
    }
}

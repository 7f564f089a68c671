using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Calls;

/// <summary>
/// A step of a call's review workflow (reviewers and conflicts, assignment, ranking): finds the call by slug, shows
/// the step, runs an action (a review module method, which saves itself) and on a refused action shows the page again
/// with the reason.
/// </summary>
public abstract class CallStepPageModel(PortalDbContext db) : PageModel
{
    protected PortalDbContext Db { get; } = db;

    protected abstract Task LoadAsync(Guid callId, CancellationToken cancellationToken);

    public async Task<IActionResult> OnGetAsync(string slug, CancellationToken cancellationToken)
    {
        var callId = await CallIdAsync(slug, cancellationToken);
        if (callId is null)
        {
            return NotFound();
        }
        await LoadAsync(callId.Value, cancellationToken);
        return Page();
    }

    protected Task<Guid?> CallIdAsync(string slug, CancellationToken cancellationToken) =>
        Db.Calls.Where(c => c.Slug == slug).Select(c => (Guid?)c.Id).SingleOrDefaultAsync(cancellationToken);

    /// <param name="field">The form field a refusal is shown beside; empty for the page's summary.</param>
    /// <param name="then">The step shown after the action (this one when null).</param>
    protected async Task<IActionResult> ActAsync(string slug, Func<Guid, Task<string>> action, CancellationToken cancellationToken, string field = "", string? then = null)
    {
        var callId = await CallIdAsync(slug, cancellationToken);
        if (callId is null)
        {
            return NotFound();
        }
        return await this.RunAsync(
            async () =>
            {
                TempData.Status(await action(callId.Value));
                return RedirectToPage(then, new { slug });
            },
            async () =>
            {
                await LoadAsync(callId.Value, cancellationToken);
                return Page();
            },
            field);
    }
}

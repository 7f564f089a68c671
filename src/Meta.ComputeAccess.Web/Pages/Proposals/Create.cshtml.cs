using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>Starts a draft in an open call; the signed-in researcher becomes its PI.</summary>
public sealed class CreateModel(PortalDbContext db, ProposalEditing editing, TimeProvider clock) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "call")]
    public string CallSlug { get; set; } = "";

    [BindProperty]
    [Required(ErrorMessage = "Give the proposal a working title; you can change it later.")]
    [StringLength(200, ErrorMessage = "The title is limited to 200 characters.")]
    public string Title { get; set; } = "";

    public Call? Call { get; private set; }

    public Task<IActionResult> OnGetAsync(CancellationToken cancellationToken) => ShowAsync(cancellationToken);

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid)
        {
            return await ShowAsync(cancellationToken);
        }
        return await this.RunAsync(async () =>
        {
            if (await editing.StartDraftAsync(CallSlug, User.GetUserId(), Title, cancellationToken) is not { } id)
            {
                return NotFound();
            }
            TempData.Status("Draft created. It saves as it is; submit when it is complete.");
            return RedirectToPage("Edit", new { id });
        }, () => ShowAsync(cancellationToken), field: nameof(Title));
    }

    /// <summary>The form for a call that takes drafts; 404 for any other call.</summary>
    private async Task<IActionResult> ShowAsync(CancellationToken cancellationToken)
    {
        var call = await db.Calls.AsNoTracking().SingleOrDefaultAsync(c => c.Slug == CallSlug, cancellationToken);
        Call = call is not null && call.IsAcceptingDrafts(clock.GetUtcNow()) ? call : null;
        return Call is null ? NotFound() : Page();
    }
}

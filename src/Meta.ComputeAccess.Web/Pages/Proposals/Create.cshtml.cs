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
public sealed class CreateModel(PortalDbContext db, TimeProvider clock) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "call")]
    public string CallSlug { get; set; } = "";

    [BindProperty]
    [Required(ErrorMessage = "Give the proposal a working title; you can change it later.")]
    [StringLength(200, ErrorMessage = "The title is limited to 200 characters.")]
    public string Title { get; set; } = "";

    public Call? Call { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        Call = await OpenCallAsync(cancellationToken);
        return Call is null ? NotFound() : Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        Call = await OpenCallAsync(cancellationToken);
        if (Call is null)
        {
            return NotFound();
        }
        if (!ModelState.IsValid)
        {
            return Page();
        }
        try
        {
            var proposal = Proposal.StartDraft(Call, User.GetUserId(), Title, clock.GetUtcNow());
            db.Proposals.Add(proposal);
            await db.SaveChangesAsync(cancellationToken);
            TempData.Status("Draft created. It saves as it is; submit when it is complete.");
            return RedirectToPage("Edit", new { id = proposal.Id });
        }
        catch (DomainException ex)
        {
            ModelState.AddModelError(nameof(Title), ex.Message);
            return Page();
        }
    }

    private async Task<Call?> OpenCallAsync(CancellationToken cancellationToken)
    {
        var call = await db.Calls.AsNoTracking().SingleOrDefaultAsync(c => c.Slug == CallSlug, cancellationToken);
        return call is not null && call.IsAcceptingDrafts(clock.GetUtcNow()) ? call : null;
    }
}

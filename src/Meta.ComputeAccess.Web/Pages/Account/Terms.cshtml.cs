using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Terms;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>
/// The current terms of use, and where a signed-in user accepts them: the portal sends everyone here first
/// (<see cref="TermsGate"/>) until they accepted the current version.
/// </summary>
public sealed class TermsModel(PortalDbContext db, PortalTerms terms) : PageModel
{
    public CurrentTerms? Current { get; private set; }

    /// <summary>When this user accepted the current version; null while they have not.</summary>
    public DateTimeOffset? AcceptedAt { get; private set; }

    /// <summary>The user accepted an earlier version (the page then says what changed).</summary>
    public bool AcceptedEarlier { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public Task<IActionResult> OnPostAsync(Guid documentId, bool accept, CancellationToken cancellationToken) =>
        this.RunAsync(async () =>
        {
            if (!accept)
            {
                ModelState.AddModelError("", "Tick the box to accept the terms of use; to leave without accepting, sign out.");
                await LoadAsync(cancellationToken);
                return Page();
            }
            await terms.AcceptTermsOfUseAsync(User.GetUserId(), documentId, cancellationToken);
            TempData.Status("Thank you: you accepted the terms of use.");
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
        }, async () =>
        {
            await LoadAsync(cancellationToken);
            return Page();
        });

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        ReturnUrl = Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : null;
        Current = await terms.CurrentAsync(TermsKind.TermsOfUse, null, cancellationToken);
        if (Current is null)
        {
            return;
        }
        var me = User.GetUserId();
        var mine = await (from a in db.TermsAcceptances.AsNoTracking()
                          join d in db.TermsDocuments on a.DocumentId equals d.Id
                          where a.UserId == me && d.Kind == TermsKind.TermsOfUse
                          select new { a.DocumentId, a.AcceptedAt }).ToListAsync(cancellationToken);
        AcceptedAt = mine.FirstOrDefault(a => a.DocumentId == Current.Id)?.AcceptedAt;
        AcceptedEarlier = AcceptedAt is null && mine.Count > 0;
    }
}

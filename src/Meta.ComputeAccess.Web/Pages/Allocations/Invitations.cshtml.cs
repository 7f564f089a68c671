using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Allocations;

/// <summary><c>/Allocations/Invitations</c>: the signed-in user's open invitations to allocations, to accept or decline.</summary>
public sealed class InvitationsModel(PortalDbContext db, AllocationMembers members) : PageModel
{
    public sealed record Invitation(Guid AllocationId, string ProjectTitle, string SlurmAccount, string PiName, DateTimeOffset InvitedAt);

    public IReadOnlyList<Invitation> Open { get; private set; } = [];

    public Task<IActionResult> OnGetAsync() => ShowAsync();

    public Task<IActionResult> OnPostAcceptAsync(Guid allocationId) =>
        this.RunAsync(async () =>
        {
            if (!await members.AcceptAsync(allocationId, User.GetUserId(), HttpContext.RequestAborted))
            {
                return NotFound();
            }
            TempData.Status("You joined the allocation. You are added on its clusters where you have a confirmed login.");
            return Redirect($"/Allocations/{allocationId}");
        }, ShowAsync);

    public Task<IActionResult> OnPostDeclineAsync(Guid allocationId) =>
        this.RunAsync(async () =>
        {
            if (!await members.DeclineAsync(allocationId, User.GetUserId(), HttpContext.RequestAborted))
            {
                return NotFound();
            }
            TempData.Status("Invitation declined.");
            return RedirectToPage();
        }, ShowAsync);

    private async Task<IActionResult> ShowAsync()
    {
        var userId = User.GetUserId();
        Open = await (from m in db.AllocationMembers.AsNoTracking()
                      where m.UserId == userId && m.Status == AllocationMemberStatus.Invited
                      join a in db.Allocations on m.AllocationId equals a.Id
                      join pi in db.Users on a.PiUserId equals pi.Id
                      orderby m.Since descending
                      select new Invitation(a.Id, a.ProjectTitle, a.SlurmAccount, pi.FullName, m.Since)).ToListAsync(HttpContext.RequestAborted);
        return Page();
    }
}

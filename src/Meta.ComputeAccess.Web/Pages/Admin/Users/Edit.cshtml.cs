using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Admin.Users;

/// <summary>Grant and revoke roles; every change is written to the audit log in the same transaction.</summary>
public sealed class EditModel(UserManager<PortalUser> users, UserAdministration administration) : PageModel
{
    public PortalUser Subject { get; private set; } = null!;

    public IList<string> CurrentRoles { get; private set; } = [];

    public Task<IActionResult> OnGetAsync(Guid id) => ShowAsync(id);

    public Task<IActionResult> OnPostGrantAsync(Guid id, string role, CancellationToken cancellationToken) =>
        ChangeAsync(id, role, administration.GrantRoleAsync, cancellationToken);

    public Task<IActionResult> OnPostRevokeAsync(Guid id, string role, CancellationToken cancellationToken) =>
        ChangeAsync(id, role, administration.RevokeRoleAsync, cancellationToken);

    private Task<IActionResult> ChangeAsync(Guid id, string role, Func<Guid, string, Guid, CancellationToken, Task<RoleChange>> change, CancellationToken cancellationToken)
    {
        if (!Roles.IsKnown(role))
        {
            // Only a tampered form names another role.
            TempData.Error("Unknown role.");
            return Task.FromResult<IActionResult>(RedirectToPage(new { id }));
        }
        return this.RunAsync(async () =>
        {
            var outcome = await change(id, role, User.GetUserId(), cancellationToken);
            TempData.Status(outcome.Message);
            return RedirectToPage(new { id });
        }, () => ShowAsync(id));
    }

    private async Task<IActionResult> ShowAsync(Guid id)
    {
        if (await users.FindByIdAsync(id.ToString()) is not { } user)
        {
            return NotFound();
        }
        Subject = user;
        CurrentRoles = await users.GetRolesAsync(user);
        return Page();
    }
}

using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Admin.Users;

/// <summary>Grant and revoke roles; every change is written to the audit log in the same transaction.</summary>
public sealed class EditModel(UserManager<PortalUser> users, PortalDbContext db, AuditLog audit) : PageModel
{
    public PortalUser Subject { get; private set; } = null!;

    public IList<string> CurrentRoles { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(Guid id)
    {
        if (await users.FindByIdAsync(id.ToString()) is not { } user)
        {
            return NotFound();
        }
        Subject = user;
        CurrentRoles = await users.GetRolesAsync(user);
        return Page();
    }

    public Task<IActionResult> OnPostGrantAsync(Guid id, string role) => ChangeAsync(id, role, grant: true);

    public Task<IActionResult> OnPostRevokeAsync(Guid id, string role) => ChangeAsync(id, role, grant: false);

    private async Task<IActionResult> ChangeAsync(Guid id, string role, bool grant)
    {
        if (await users.FindByIdAsync(id.ToString()) is not { } user)
        {
            return NotFound();
        }
        if (!Roles.IsKnown(role))
        {
            TempData.Error("Unknown role.");
            return RedirectToPage(new { id });
        }
        var has = await users.IsInRoleAsync(user, role);
        if (has == grant)
        {
            TempData.Status(grant ? $"{user.FullName} already has the {role} role." : $"{user.FullName} does not have the {role} role.");
            return RedirectToPage(new { id });
        }
        if (!grant && role == Roles.Admin && (await users.GetUsersInRoleAsync(Roles.Admin)).Count <= 1)
        {
            TempData.Error("This is the last admin: grant the Admin role to someone else first.");
            return RedirectToPage(new { id });
        }

        await using var tx = await db.Database.BeginTransactionAsync();
        var result = grant ? await users.AddToRoleAsync(user, role) : await users.RemoveFromRoleAsync(user, role);
        if (!result.Succeeded)
        {
            TempData.Error(string.Join(" ", result.Errors.Select(e => e.Description)));
            return RedirectToPage(new { id });
        }
        // Role changes rotate the security stamp, so the user's other sessions pick them up at the next validation.
        await users.UpdateSecurityStampAsync(user);
        audit.Record(User.GetUserId(), grant ? "role.granted" : "role.revoked", "user", user.Id.ToString(),
            grant ? $"Granted role {role} to {user.Email}" : $"Revoked role {role} from {user.Email}");
        await db.SaveChangesAsync();
        await tx.CommitAsync();
        TempData.Status(grant ? $"Granted {role} to {user.FullName}." : $"Revoked {role} from {user.FullName}.");
        return RedirectToPage(new { id });
    }
}

using System.Text;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Account;

[AllowAnonymous]
public sealed class ConfirmEmailModel(UserManager<PortalUser> users, PortalDbContext db) : PageModel
{
    public bool Confirmed { get; private set; }

    /// <summary>Invitations to join a team that were waiting for this address: the user answers them once signed in.</summary>
    public int Invitations { get; private set; }

    public async Task OnGetAsync(Guid? userId, string? code)
    {
        if (userId is null || string.IsNullOrEmpty(code) || await users.FindByIdAsync(userId.Value.ToString()) is not { } user)
        {
            return;
        }
        string token;
        try
        {
            token = Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(code));
        }
        catch (FormatException)
        {
            return;
        }
        var result = await users.ConfirmEmailAsync(user, token);
        if (result.Succeeded)
        {
            user.MarkEmailConfirmed();
            await users.UpdateAsync(user);
            Invitations = await db.ProposalMembers.InvitationsTo(db.Users, user.Id).CountAsync();
            Confirmed = true;
        }
    }
}

using System.Text;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;

namespace Meta.ComputeAccess.Web.Pages.Account;

[AllowAnonymous]
public sealed class ConfirmEmailModel(UserManager<PortalUser> users, ProposalTeam team) : PageModel
{
    public bool Confirmed { get; private set; }

    public int JoinedProposals { get; private set; }

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
            JoinedProposals = await team.ClaimInvitationsAsync(user);
            Confirmed = true;
        }
    }
}

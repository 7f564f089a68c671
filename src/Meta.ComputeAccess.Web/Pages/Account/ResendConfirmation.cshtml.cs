using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Configurations;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>Mails a new confirmation link to an account not yet confirmed; every address gets the same answer.</summary>
[AllowAnonymous]
[EnableRateLimiting(PortalRateLimits.Accounts)]
public sealed class ResendConfirmationModel(UserManager<PortalUser> users, AccountEmails emails, PortalDbContext db) : EmailLinkRequestModel(users, db)
{
    protected override bool Wants(PortalUser user) => !user.EmailConfirmed;

    protected override Task QueueAsync(PortalUser user) => emails.QueueConfirmationAsync(user);

    protected override IActionResult Answer() => RedirectToPage("RegisterConfirmation", new { email = Email.Trim() });
}

using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Privacy;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>
/// The signed-in user's open sessions (each can be ended), own recent sign-in attempts, two-factor state, "sign out
/// everywhere", and the sign-ins through identity providers linked to the account (link another, remove one but never
/// the last way in); the person's data rights: download everything the portal holds about them, close the account.
/// </summary>
[Authorize]
public sealed class SecurityModel(
    PortalDbContext db, UserManager<PortalUser> users, SignInManager<PortalUser> signIn, UserSessions sessions,
    IOptions<AccountSecurityOptions> security, TimeProvider clock, IdentityProviders providers, FederatedAccounts accounts) : PageModel
{
    public const int Shown = 50;

    public sealed record Attempt(DateTimeOffset At, SignInOutcome Outcome, string? ClientAddress, string UserAgent);

    /// <summary>An open session; <paramref name="Current"/> is the one this page is shown in.</summary>
    public sealed record Session(Guid Id, DateTimeOffset StartedAt, DateTimeOffset LastSeenAt, string? ClientAddress, string UserAgent, bool Current);

    public IReadOnlyList<Attempt> Attempts { get; private set; } = [];

    public IReadOnlyList<Session> Sessions { get; private set; } = [];

    public bool TwoFactorEnabled { get; private set; }

    public sealed record LinkedSignIn(string Provider, string ProviderKey, string DisplayName);

    public IReadOnlyList<LinkedSignIn> LinkedSignIns { get; private set; } = [];

    /// <summary>Providers offered here that this account has no sign-in with yet.</summary>
    public IReadOnlyList<IdentityProvider> Linkable { get; private set; } = [];

    /// <summary>No password and a single linked sign-in: that sign-in is the only way in and cannot be removed.</summary>
    public bool OnlyWayIn { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        var userId = User.GetUserId();
        TwoFactorEnabled = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => u.TwoFactorEnabled).SingleOrDefaultAsync(cancellationToken);
        var rows = await db.SignInEvents.AsNoTracking()
            .Where(e => e.UserId == userId)
            .OrderByDescending(e => e.At).ThenByDescending(e => e.Id)
            .Take(Shown)
            .Select(e => new { e.At, e.Outcome, e.ClientAddress, e.UserAgent })
            .ToListAsync(cancellationToken);
        Attempts = [.. rows.Select(r => new Attempt(r.At, r.Outcome, r.ClientAddress?.ToString(), r.UserAgent))];
        var current = SessionLimits.CurrentSession(HttpContext);
        var limits = security.Value;
        var open = await db.UserSessions.AsNoTracking()
            .OpenFor(userId, clock.GetUtcNow(), new SessionTimeouts(limits.IdleTimeout, limits.RememberMeIdleTimeout, limits.AbsoluteSessionLimit))
            .OrderByDescending(s => s.LastSeenAt).ThenByDescending(s => s.StartedAt)
            .Take(Shown)
            .Select(s => new { s.Id, s.StartedAt, s.LastSeenAt, s.ClientAddress, s.UserAgent })
            .ToListAsync(cancellationToken);
        Sessions = [.. open.Select(s => new Session(s.Id, s.StartedAt, s.LastSeenAt, s.ClientAddress?.ToString(), s.UserAgent, s.Id == current))];
        var logins = await db.UserLogins.AsNoTracking().Where(l => l.UserId == userId).OrderBy(l => l.LoginProvider)
            .Select(l => new { l.LoginProvider, l.ProviderKey }).ToListAsync(cancellationToken);
        LinkedSignIns = [.. logins.Select(l => new LinkedSignIn(l.LoginProvider, l.ProviderKey, providers.Find(l.LoginProvider)?.DisplayName ?? l.LoginProvider))];
        Linkable = [.. providers.All.Where(p => logins.All(l => l.LoginProvider != p.Name))];
        OnlyWayIn = LinkedSignIns.Count == 1 && !await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => u.PasswordHash != null).SingleAsync(cancellationToken);
        return Page();
    }

    /// <summary>Ends one of the user's other sessions at once: its cookie, wherever it is, stops working with its next request.</summary>
    public async Task<IActionResult> OnPostEndSessionAsync(Guid id, CancellationToken cancellationToken)
    {
        if (id == SessionLimits.CurrentSession(HttpContext) || !await sessions.EndAsync(User.GetUserId(), id, cancellationToken))
        {
            // Not one of this user's open sessions (or this one, which "Sign out" ends): nothing to end here.
            return NotFound();
        }
        TempData.Status("That session is ended: the browser it was in is signed out.");
        return RedirectToPage();
    }

    /// <summary>Goes to the provider; its answer comes back to <see cref="OnGetLinkCallbackAsync"/>, bound to this account.</summary>
    public IActionResult OnPostLink(string? provider)
    {
        if (providers.Find(provider) is null)
        {
            return NotFound();
        }
        var callback = Url.Page("/Account/Security", "LinkCallback");
        return Challenge(signIn.ConfigureExternalAuthenticationProperties(provider, callback, User.GetUserId().ToString()), provider!);
    }

    /// <summary>Being signed in is the proof that the account is the person's; the provider's sign-in proves the rest.</summary>
    public async Task<IActionResult> OnGetLinkCallbackAsync(CancellationToken cancellationToken)
    {
        var userId = User.GetUserId();
        if (await signIn.GetExternalLoginInfoAsync(userId.ToString()) is not { } login || providers.Find(login.LoginProvider) is null)
        {
            TempData.Error("The sign-in with your provider did not complete; nothing was linked. Try again.");
            return RedirectToPage();
        }
        return await this.RunAsync(async () =>
        {
            var who = providers.Read(login);
            await accounts.LinkAsync(userId, who, LinkProof.SignedIn, cancellationToken);
            await HttpContext.SignOutAsync(IdentityConstants.ExternalScheme);
            await RefreshAsync();
            TempData.Status($"Linked: you can now sign in with {who.ProviderName}.");
            return RedirectToPage();
        }, () => OnGetAsync(cancellationToken));
    }

    public Task<IActionResult> OnPostRemoveLoginAsync(string? provider, string? providerKey, CancellationToken cancellationToken) =>
        this.RunAsync(async () =>
        {
            await accounts.UnlinkAsync(User.GetUserId(), provider ?? "", providerKey ?? "", cancellationToken);
            await RefreshAsync();
            TempData.Status("Removed. Your other sessions signed in that way end within 5 minutes.");
            return RedirectToPage();
        }, () => OnGetAsync(cancellationToken));

    /// <summary>Linking and removing change the security stamp; this session stays signed in.</summary>
    private async Task RefreshAsync()
    {
        if (await users.GetUserAsync(User) is { } user)
        {
            await signIn.RefreshSignInAsync(user);
        }
    }

    /// <summary>
    /// Ends every session of this account at once, this one included, and changes the security stamp, which also
    /// forgets every browser remembered for two-factor sign-in.
    /// </summary>
    public async Task<IActionResult> OnPostSignOutEverywhereAsync(CancellationToken cancellationToken)
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return NotFound();
        }
        await sessions.EndAllAsync(user.Id, cancellationToken);
        await users.UpdateSecurityStampAsync(user);
        await signIn.SignOutAsync();
        TempData.Status("You are signed out on every device.");
        return RedirectToPage("Login");
    }

    /// <summary>Everything the portal holds about the person, as a JSON file (a few per hour: each reads all of it).</summary>
    public Task<IActionResult> OnPostExportAsync([FromServices] PersonalDataExport export, CancellationToken cancellationToken) =>
        this.RunAsync(async () =>
        {
            var userId = User.GetUserId();
            var fileName = await export.StartAsync(userId, cancellationToken);
            return new PersonalDataDownload(export, userId, fileName);
        }, () => OnGetAsync(cancellationToken));

    public static string Describe(SignInOutcome outcome) => outcome switch
    {
        SignInOutcome.Succeeded => "Signed in",
        SignInOutcome.WrongPassword => "Wrong password",
        SignInOutcome.LockedOut => "Refused: account locked",
        SignInOutcome.EmailNotConfirmed => "Refused: email not confirmed",
        SignInOutcome.TwoFactorFailed => "Wrong two-factor code",
        SignInOutcome.RecoveryCodeUsed => "Signed in with a recovery code",
        _ => outcome.ToString(),
    };
}

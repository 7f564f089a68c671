using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Notifications;

/// <summary>
/// The unsubscribe link of a mail, without signing in: the token alone says whose mail and which kind, and only
/// that preference changes. GET asks for confirmation (mail scanners follow links); the confirmation form POSTs with
/// an antiforgery token; the RFC 8058 one-click POST (<c>?handler=OneClick</c>, from the <c>List-Unsubscribe</c>
/// header) comes from a mail client that has no antiforgery token, so this page checks it itself per handler.
/// </summary>
[AllowAnonymous]
[IgnoreAntiforgeryToken]
public sealed class UnsubscribeModel(PortalDbContext db, UnsubscribeTokens tokens, IAntiforgery antiforgery, AuditLog audit, TimeProvider clock) : PageModel
{
    public const string InvalidMessage = "This unsubscribe link is not valid. It may have been cut off or changed. Sign in and choose what you receive on the email preferences page instead.";

    [BindProperty(SupportsGet = true)]
    public string? Token { get; set; }

    public string? Description { get; private set; }

    public bool Done { get; private set; }

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (await ReadAsync(cancellationToken) is not { } target)
        {
            return Invalid();
        }
        Description = Describe(target.Kind);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        try
        {
            await antiforgery.ValidateRequestAsync(HttpContext);
        }
        catch (AntiforgeryValidationException)
        {
            return BadRequest();
        }
        if (await ReadAsync(cancellationToken) is not { } target)
        {
            return Invalid();
        }
        await UnsubscribeAsync(target.UserId, target.Kind, cancellationToken);
        Description = Describe(target.Kind);
        Done = true;
        return Page();
    }

    /// <summary>RFC 8058: the body must be <c>List-Unsubscribe=One-Click</c>; the answer is a plain 200.</summary>
    public async Task<IActionResult> OnPostOneClickAsync(CancellationToken cancellationToken)
    {
        var form = Request.HasFormContentType ? await Request.ReadFormAsync(cancellationToken) : null;
        if (form is null || !string.Equals(form["List-Unsubscribe"].ToString(), "One-Click", StringComparison.Ordinal))
        {
            return BadRequest("Expected List-Unsubscribe=One-Click.");
        }
        if (await ReadAsync(cancellationToken) is not { } target)
        {
            return BadRequest(InvalidMessage);
        }
        await UnsubscribeAsync(target.UserId, target.Kind, cancellationToken);
        return Content("Unsubscribed.", "text/plain");
    }

    private async Task<(Guid UserId, string Kind)?> ReadAsync(CancellationToken cancellationToken) =>
        tokens.TryRead(Token, out var userId, out var kind) && await db.Users.AnyAsync(u => u.Id == userId, cancellationToken)
            ? (userId, kind)
            : null;

    private PageResult Invalid()
    {
        Error = InvalidMessage;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private async Task UnsubscribeAsync(Guid userId, string kind, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var saved = await db.NotificationPreferences.Where(p => p.UserId == userId).ToDictionaryAsync(p => p.Kind, StringComparer.Ordinal, cancellationToken);
        // The digest's link turns off every kind the user receives as a digest; a kind's link turns off that kind.
        var kinds = kind == UnsubscribeTokens.DigestKind
            ? saved.Values.Where(p => p.Mode == NotificationMode.DailyDigest).Select(p => p.Kind).ToList()
            : [kind];
        foreach (var key in kinds)
        {
            if (saved.TryGetValue(key, out var preference))
            {
                preference.Change(NotificationMode.Off, now);
            }
            else
            {
                db.NotificationPreferences.Add(NotificationPreference.Create(userId, key, NotificationMode.Off, now));
            }
        }
        audit.Record(userId, "notifications.unsubscribed", "user", userId.ToString(), $"Turned off email for {kind} from an unsubscribe link");
        await db.SaveChangesAsync(cancellationToken);
    }

    private static string Describe(string kind) =>
        kind == UnsubscribeTokens.DigestKind ? "the daily digest" : $"“{NotificationKinds.Get(kind).Description}”";
}

using Meta.ComputeAccess.Notifications;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Notifications;

/// <summary>
/// The unsubscribe link of a mail, without signing in: the token alone says whose mail and which kind, and only
/// that preference changes. GET asks for confirmation (mail scanners follow links); the confirmation form POSTs with
/// an antiforgery token; the RFC 8058 one-click POST (<c>?handler=OneClick</c>, from the <c>List-Unsubscribe</c>
/// header) comes from a mail client that has no antiforgery token, so this page checks it itself per handler.
/// </summary>
[AllowAnonymous]
[IgnoreAntiforgeryToken]
public sealed class UnsubscribeModel(EmailPreferences preferences, IAntiforgery antiforgery) : PageModel
{
    public const string InvalidMessage = "This unsubscribe link is not valid. It may have been cut off or changed. Sign in and choose what you receive on the email preferences page instead.";

    [BindProperty(SupportsGet = true)]
    public string? Token { get; set; }

    public string? Description { get; private set; }

    public bool Done { get; private set; }

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (await preferences.ReadTokenAsync(Token, cancellationToken) is not { } target)
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
        if (await preferences.ReadTokenAsync(Token, cancellationToken) is not { } target)
        {
            return Invalid();
        }
        await preferences.UnsubscribeAsync(target, cancellationToken);
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
        if (await preferences.ReadTokenAsync(Token, cancellationToken) is not { } target)
        {
            return BadRequest(InvalidMessage);
        }
        await preferences.UnsubscribeAsync(target, cancellationToken);
        return Content("Unsubscribed.", "text/plain");
    }

    private PageResult Invalid()
    {
        Error = InvalidMessage;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private static string Describe(string kind) =>
        kind == UnsubscribeTokens.DigestKind ? "the daily digest" : $"“{NotificationKinds.Get(kind).Description}”";
}

using System.Diagnostics;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;

namespace Meta.ComputeAccess.Web.Pages;

/// <summary>Friendly error pages for 404, 403, 500 and the rest; never a stack trace.</summary>
[AllowAnonymous]
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class ErrorModel : PageModel
{
    public int Code { get; private set; } = 500;

    public string? RequestId { get; private set; }

    public IActionResult OnGet(int? code) => Answer(code);

    public IActionResult OnPost(int? code) => Answer(code);

    private IActionResult Answer(int? code)
    {
        Code = code ?? 500;
        RequestId = Activity.Current?.Id ?? HttpContext.TraceIdentifier;
        // Re-executed for a status code: keep that code; reached directly: answer with the code shown.
        Response.StatusCode = Code is >= 400 and <= 599 ? Code : 500;
        var originalPath = HttpContext.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerPathFeature>()?.Path
            ?? HttpContext.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodeReExecuteFeature>()?.OriginalPath;
        if (originalPath?.StartsWith("/api/", StringComparison.OrdinalIgnoreCase) == true)
        {
            // Machines get a problem document, not an HTML page.
            return new ObjectResult(new ProblemDetails
            {
                Status = Response.StatusCode,
                Title = Code >= 500 ? "The portal could not complete the request; nothing was changed. Retry later." : ReasonPhrases.GetReasonPhrase(Response.StatusCode),
                Extensions = { ["requestId"] = RequestId },
            })
            { StatusCode = Response.StatusCode, ContentTypes = { "application/problem+json" } };
        }
        return Page();
    }
}

using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Meta.ComputeAccess.Web.Platform;

/// <summary>
/// Refuses, with 400 and a reason, what no page can handle: a form post that names no handler of the page (Razor
/// Pages would otherwise render the page without running any code), and text with a NUL character, which
/// PostgreSQL cannot store in text and which no person types.
/// </summary>
public sealed class RequestGuards : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var request = context.HttpContext.Request;
        if (context.HandlerMethod is null && !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            context.Result = Problem("This form was sent to an action the page does not have. Reload the page and try again.");
            return;
        }
        if (ContainsNul(request))
        {
            context.Result = Problem("The text you sent contains a NUL character, which cannot be stored. Remove it and try again.");
            return;
        }
        await next();
    }

    private static bool ContainsNul(HttpRequest request)
    {
        if (request.Query.Any(q => q.Value.Any(v => v?.Contains('\0', StringComparison.Ordinal) == true)))
        {
            return true;
        }
        return request.HasFormContentType && request.Form.Any(f => f.Value.Any(v => v?.Contains('\0', StringComparison.Ordinal) == true));
    }

    private static ContentResult Problem(string message) =>
        new() { StatusCode = StatusCodes.Status400BadRequest, ContentType = "text/plain; charset=utf-8", Content = message };
}

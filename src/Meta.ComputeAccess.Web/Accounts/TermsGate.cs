using Meta.ComputeAccess.Terms;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.Abstractions;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>
/// A signed-in user who has not accepted the current terms of use is sent to <c>/Account/Terms</c> before anything
/// else (the dashboard too, though visitors may open it), and back to the page they asked for once they accept. Left
/// alone: the terms page itself, sign-out, error pages, what is not a page and open to anyone (static files, health),
/// the cluster API (tokens, not people), and the account's own controls (security with the personal-data export,
/// two-factor, closing the account): someone who does not accept new terms can still take their data and leave. No query
/// of its own: the session check looked the terms up with the session (<see cref="PortalTerms.CheckSignedInAsync"/>); a
/// signed-in request whose session was not checked (which the cookie handler never lets through) is sent to the terms
/// page, which asks only when there is something to accept.
/// </summary>
public static class TermsGate
{
    public const string TermsPath = "/Account/Terms";

    private static readonly PathString[] Exempt =
        [TermsPath, "/Account/Logout", "/Account/AccessDenied", "/Error", "/api", "/Account/Security", "/Account/TwoFactor", "/Account/Close"];

    public static IApplicationBuilder UseTermsGate(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!context.User.IsPortalUser()
            || context.GetEndpoint() is not { } endpoint
            || (endpoint.Metadata.GetMetadata<ActionDescriptor>() is null && endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            || Exempt.Any(p => context.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
        {
            await next();
            return;
        }
        if (SessionLimits.SignedInCheck(context) is { TermsOfUseToAccept: null })
        {
            await next();
            return;
        }
        var read = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);
        var back = read ? QueryString.Create("returnUrl", context.Request.PathBase + context.Request.Path + context.Request.QueryString) : QueryString.Empty;
        // 303: a refused form post is not repeated at the terms page.
        context.Response.StatusCode = read ? StatusCodes.Status302Found : StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = context.Request.PathBase + TermsPath + back;
    });
}

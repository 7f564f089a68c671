using System.Diagnostics;
using System.Security.Claims;
using Hangfire;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Api;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Serilog;

namespace Meta.ComputeAccess.Web.Configurations;

public static class PortalPipeline
{
    public static WebApplication UsePortal(this WebApplication app)
    {
        app.UseForwardedHeaders();
        // Outside the exception handler, so the logged status is the one the client got (a 503 for a database
        // outage, not the 500 of the exception on its way out).
        app.UseSerilogRequestLogging(o => o.EnrichDiagnosticContext = (diagnostics, http) =>
        {
            diagnostics.Set("UserId", http.User.FindFirstValue(ClaimTypes.NameIdentifier));
            diagnostics.Set("TraceId", Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier);
        });
        if (app.Environment.IsDevelopment())
        {
            app.UseDeveloperExceptionPage();
        }
        else
        {
            app.UseExceptionHandler("/Error");
            app.UseHsts();
        }
        app.UseStatusCodePagesWithReExecute("/Error/{0}");
        app.UseSecurityHeaders();
        app.UseHttpsOnly();

        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        // Before anything else a signed-in user opens: the current terms of use, until accepted. After the rate limiter,
        // so a flood is refused before the gate's query.
        app.UseTermsGate();

        app.MapStaticAssets().AllowAnonymous();
        app.MapRazorPages().WithStaticAssets();
        app.MapClusterApi();

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).AllowAnonymous();

        // The dashboard's own filter list is emptied: access is the Admin policy's alone.
        app.MapHangfireDashboardWithAuthorizationPolicy(Policies.Admin, "/admin/jobs", new DashboardOptions
        {
            Authorization = [],
            AppPath = "/",
            DashboardTitle = "Meta Compute Access jobs",
        });
        return app;
    }

    /// <summary>
    /// Where cookies are Secure-only (production), a request that is not HTTPS, even after the trusted proxy's
    /// <c>X-Forwarded-Proto</c>, gets a 400 that says why: antiforgery and sign-in cannot work over it, and a redirect
    /// would loop behind a proxy that does not forward the scheme. Health checks stay reachable over HTTP.
    /// </summary>
    private static void UseHttpsOnly(this WebApplication app)
    {
        if (app.Environment.SecurePolicy() != Microsoft.AspNetCore.Http.CookieSecurePolicy.Always)
        {
            return;
        }
        app.Use(async (context, next) =>
        {
            if (context.Request.IsHttps || context.Request.Path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase))
            {
                await next();
                return;
            }
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(
                "This portal answers over HTTPS only. Use its https:// address; an operator running it behind a proxy must " +
                "have the proxy send X-Forwarded-Proto and list it in ForwardedHeaders:KnownProxies (docs/operations.md).");
        });
    }

    private static void UseSecurityHeaders(this WebApplication app)
    {
        // A sign-in button posts here and is redirected to its provider: form-action covers the redirect too.
        var providers = string.Concat(app.Services.GetRequiredService<Accounts.IdentityProviders>().All
            .Select(p => " " + new Uri(p.Options.Authority).GetLeftPart(UriPartial.Authority)).Distinct(StringComparer.Ordinal));
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
            headers.XFrameOptions = "DENY";
            if (!context.Request.Path.StartsWithSegments("/admin/jobs", StringComparison.OrdinalIgnoreCase))
            {
                // Hangfire's dashboard uses inline scripts; it is for admins only and keeps its own headers.
                headers.ContentSecurityPolicy =
                    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
                    $"object-src 'none'; base-uri 'self'; form-action 'self'{providers}; frame-ancestors 'none'";
            }
            await next();
        });
    }
}

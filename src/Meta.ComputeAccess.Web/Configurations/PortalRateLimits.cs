using System.Globalization;
using System.Threading.RateLimiting;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Platform;
using Microsoft.AspNetCore.RateLimiting;

namespace Meta.ComputeAccess.Web.Configurations;

/// <summary>
/// Rate limits for what attackers hammer: sign-in, registration, password reset (per client address, form posts
/// only, counted in PostgreSQL so the limit holds across every instance) and the cluster API (per client address and
/// instance). The address is the forwarded one behind a configured proxy. Limits come from <c>RateLimits:*</c>; a
/// refused request gets 429 with Retry-After. These run after authentication; bad cluster tokens are limited
/// before it, in the token handler (<see cref="Api.ClusterTokenFailures"/>).
/// </summary>
public static class PortalRateLimits
{
    public const string Accounts = "accounts";
    public const string ClusterApi = "cluster-api";

    public static void AddPortalRateLimits(this WebApplicationBuilder builder)
    {
        var accountPermits = builder.Configuration.GetValue("RateLimits:AccountPostsPerMinute", 10);
        var apiPermits = builder.Configuration.GetValue("RateLimits:ClusterApiRequestsPerMinute", 120);
        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (context, cancellationToken) =>
            {
                var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
                context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                context.HttpContext.Response.ContentType = "text/plain; charset=utf-8";
                await context.HttpContext.Response.WriteAsync(
                    $"Too many requests from your address. Try again in {Math.Ceiling(retry.TotalSeconds)} seconds.", cancellationToken);
            };
            options.AddPolicy(Accounts, http =>
                HttpMethods.IsPost(http.Request.Method)
                    ? RateLimitPartition.Get(Accounts + "|" + ClientAddress(http), key => new SharedFixedWindowLimiter(
                        http.RequestServices.GetRequiredService<IServiceScopeFactory>(), http.RequestServices.GetRequiredService<TimeProvider>(),
                        key, accountPermits, TimeSpan.FromMinutes(1)))
                    : RateLimitPartition.GetNoLimiter("reads"));
            options.AddPolicy(ClusterApi, http =>
                RateLimitPartition.GetFixedWindowLimiter(ClientAddress(http), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = apiPermits,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
        });
    }

    /// <summary>The partition of a request: the client's address as the forwarded-headers middleware resolved it.</summary>
    public static string ClientAddress(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}

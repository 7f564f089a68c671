using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Web.Configurations;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Api;

/// <summary>
/// <c>Authorization: Bearer mca_…</c> for the cluster API. A missing, unknown or revoked token fails (401);
/// the principal carries the token's cluster, and endpoints answer 403 for any other cluster. An address that has
/// sent too many bad tokens gets 429 with Retry-After before its token is looked up (<see cref="ClusterTokenFailures"/>).
/// </summary>
public sealed class ClusterTokenAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ClusterTokens tokens, ClusterTokenFailures failures)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ClusterToken";
    public const string Policy = "ClusterToken";
    public const string ClusterIdClaim = "mca:cluster_id";
    public const string ClusterSlugClaim = "mca:cluster_slug";
    public const string TokenIdClaim = "mca:token_id";

    /// <summary>Set when this request was held back for the address's bad tokens: the challenge answers 429, not 401.</summary>
    private TimeSpan? retryAfter;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }
        var client = PortalRateLimits.ClientAddress(Context);
        if (failures.HeldFor(client) is { } wait)
        {
            retryAfter = wait;
            return AuthenticateResult.Fail("Too many unknown or revoked tokens from this address.");
        }
        var caller = await tokens.AuthenticateAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (caller is null)
        {
            failures.Record(client);
            return AuthenticateResult.Fail("The token is unknown or revoked.");
        }
        var identity = new ClaimsIdentity(
        [
            new Claim(ClusterIdClaim, caller.ClusterId.ToString()),
            new Claim(ClusterSlugClaim, caller.ClusterSlug),
            new Claim(TokenIdClaim, caller.TokenId.ToString()),
        ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (retryAfter is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await Response.WriteAsJsonAsync(new { error = $"Too many unknown or revoked tokens from your address. Try again in {seconds} seconds with a valid token." });
            return;
        }
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"cluster-api\"";
        await Response.WriteAsJsonAsync(new { error = "Send a valid, unrevoked cluster token as 'Authorization: Bearer mca_…'." });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Response.WriteAsJsonAsync(new { error = "This token belongs to another cluster." });
    }

}

public static class ClusterCallerExtensions
{
    public static Guid ClusterId(this ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(ClusterTokenAuthentication.ClusterIdClaim)!);

    public static string ClusterSlug(this ClaimsPrincipal user) => user.FindFirstValue(ClusterTokenAuthentication.ClusterSlugClaim)!;
}

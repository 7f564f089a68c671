using System.Security.Claims;
using System.Text.Encodings.Web;
using Meta.ComputeAccess.Clusters;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Api;

/// <summary>
/// <c>Authorization: Bearer mca_…</c> for the cluster API. A missing, unknown or revoked token fails (401);
/// the principal carries the token's cluster, and endpoints answer 403 for any other cluster.
/// </summary>
public sealed partial class ClusterTokenAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ClusterTokens tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ClusterToken";
    public const string Policy = "ClusterToken";
    public const string ClusterIdClaim = "mca:cluster_id";
    public const string ClusterSlugClaim = "mca:cluster_slug";
    public const string TokenIdClaim = "mca:token_id";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }
        var caller = await tokens.AuthenticateAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (caller is null)
        {
            LogRefused(Logger);
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
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"cluster-api\"";
        await Response.WriteAsJsonAsync(new { error = "Send a valid, unrevoked cluster token as 'Authorization: Bearer mca_…'." });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Response.WriteAsJsonAsync(new { error = "This token belongs to another cluster." });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A cluster API request presented an unknown or revoked token")]
    private static partial void LogRefused(ILogger logger);
}

public static class ClusterCallerExtensions
{
    public static Guid ClusterId(this ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(ClusterTokenAuthentication.ClusterIdClaim)!);

    public static string ClusterSlug(this ClaimsPrincipal user) => user.FindFirstValue(ClusterTokenAuthentication.ClusterSlugClaim)!;
}

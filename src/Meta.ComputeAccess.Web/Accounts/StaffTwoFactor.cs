using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>
/// Part of the staff policies (Admin, Reviewer, Compliance): this session was signed in with a second factor (Identity's <c>amr</c>
/// claim is <c>mfa</c>), either the account's own authenticator app (then the account must still have two-factor
/// sign-in on) or the identity provider it signed in through, which said it checked one. Off when
/// <c>Security:RequireTwoFactorForStaff</c> is false.
/// </summary>
public sealed class StaffTwoFactorRequirement : IAuthorizationRequirement
{
    /// <summary>The claim Identity adds to a session signed in with a second factor.</summary>
    public const string AuthenticationMethodClaim = "amr";

    public const string MultiFactor = "mfa";

    /// <summary>
    /// True when a policy was refused only for want of a two-factor sign-in: every other requirement (the role) was
    /// met. Used to lead such a user to set it up rather than to the bare "not allowed" page.
    /// </summary>
    public static bool OnlyThisFailed(AuthorizationFailure? failure) =>
        failure is { FailCalled: false }
        && failure.FailedRequirements.Any()
        && failure.FailedRequirements.All(r => r is StaffTwoFactorRequirement);

    /// <summary>The session's second factor was checked by this identity provider (the claim's value), not by the portal.</summary>
    public const string ProviderSecondFactorClaim = "mca:2fa-provider";

    /// <summary>How the session signed in: kept when the sign-in is rebuilt (security stamp checks, profile changes).</summary>
    public static readonly string[] SessionClaims = [AuthenticationMethodClaim, ProviderSecondFactorClaim];
}

public sealed class StaffTwoFactorHandler(IOptionsMonitor<AccountSecurityOptions> options) : AuthorizationHandler<StaffTwoFactorRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, StaffTwoFactorRequirement requirement)
    {
        var user = context.User;
        if (!options.CurrentValue.RequireTwoFactorForStaff
            || (user.HasClaim(StaffTwoFactorRequirement.AuthenticationMethodClaim, StaffTwoFactorRequirement.MultiFactor)
                && (user.HasClaim(PortalClaimsFactory.TwoFactorEnabledClaim, "true") || user.HasClaim(c => c.Type == StaffTwoFactorRequirement.ProviderSecondFactorClaim))))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}

/// <summary>
/// A signed-in user refused only for want of two-factor sign-in is sent to /Account/TwoFactor, which says why,
/// instead of the bare "not allowed" page. Every other result is handled as the framework does.
/// </summary>
public sealed class StaffTwoFactorRedirect : IAuthorizationMiddlewareResultHandler
{
    public const string Page = "/Account/TwoFactor";

    private readonly AuthorizationMiddlewareResultHandler framework = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden && StaffTwoFactorRequirement.OnlyThisFailed(authorizeResult.AuthorizationFailure))
        {
            var returnUrl = context.Request.PathBase + context.Request.Path + context.Request.QueryString;
            context.Response.Redirect($"{Page}?required=true&returnUrl={Uri.EscapeDataString(returnUrl)}");
            return Task.CompletedTask;
        }
        return framework.HandleAsync(next, context, policy, authorizeResult);
    }
}

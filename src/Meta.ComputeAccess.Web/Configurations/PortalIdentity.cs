using System.Security.Claims;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Meta.ComputeAccess.Web.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Configurations;

/// <summary>Names of the authorization policies; each role has a policy of its name.</summary>
public static class Policies
{
    public const string Admin = Roles.Admin;
    public const string Reviewer = Roles.Reviewer;
    public const string Researcher = Roles.Researcher;
    public const string Compliance = Roles.Compliance;
    public const string Safety = Roles.Safety;
}

internal static class PortalIdentity
{
    public static void AddPortalIdentity(this WebApplicationBuilder builder)
    {
        builder.Services
            .AddIdentity<PortalUser, PortalRole>(options =>
            {
                options.SignIn.RequireConfirmedEmail = true;
                options.User.RequireUniqueEmail = true;
                PasswordRules.Apply(options.Password);
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
            })
            .AddEntityFrameworkStores<PortalDbContext>()
            .AddErrorDescriber<PortalIdentityErrors>()
            .AddPasswordValidator<GuessablePasswordValidator>()
            .AddClaimsPrincipalFactory<PortalClaimsFactory>()
            .AddSignInManager<PortalSignInManager>()
            .AddDefaultTokenProviders();

        builder.Services.Configure<DataProtectionTokenProviderOptions>(o => o.TokenLifespan = TimeSpan.FromDays(2));
        builder.Services.AddOptions<AccountSecurityOptions>().Bind(builder.Configuration.GetSection(AccountSecurityOptions.Section));
        // Revoked roles and "sign out everywhere" take effect within minutes, not at cookie expiry.
        builder.Services.AddOptions<SecurityStampValidatorOptions>().Configure<TimeProvider>((o, clock) =>
        {
            o.ValidationInterval = TimeSpan.FromMinutes(5);
            o.TimeProvider = clock;
            // The rebuilt principal would lose how the session signed in; staff pages need "mfa" (and whose it was) to stay.
            o.OnRefreshingPrincipal = context =>
            {
                foreach (var type in StaffTwoFactorRequirement.SessionClaims)
                {
                    if (context.CurrentPrincipal?.FindFirst(type) is { } kept
                        && context.NewPrincipal?.Identity is ClaimsIdentity identity
                        && !identity.HasClaim(c => c.Type == type))
                    {
                        identity.AddClaim(new Claim(kept.Type, kept.Value));
                    }
                }
                return Task.CompletedTask;
            };
        });

        builder.Services.ConfigureApplicationCookie(options =>
        {
            options.Cookie.Name = "mca.auth";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.Cookie.SecurePolicy = builder.Environment.SecurePolicy();
            options.LoginPath = "/Account/Login";
            options.LogoutPath = "/Account/Logout";
            options.AccessDeniedPath = "/Account/AccessDenied";
        });
        // Idle and absolute session limits (Security:*), on the clock the rest of the portal uses.
        builder.Services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme)
            .Configure<IOptions<AccountSecurityOptions>, TimeProvider>((options, security, clock) => SessionLimits.Apply(options, security.Value, clock));
        // The browser remembered after a two-factor sign-in, and the short-lived cookie between password and code.
        foreach (var (scheme, cookie) in new[] { (IdentityConstants.TwoFactorRememberMeScheme, "mca.2fa-device"), (IdentityConstants.TwoFactorUserIdScheme, "mca.2fa-pending") })
        {
            builder.Services.AddOptions<CookieAuthenticationOptions>(scheme).Configure<TimeProvider>((options, clock) =>
            {
                options.TimeProvider = clock;
                options.Cookie.Name = cookie;
                options.Cookie.HttpOnly = true;
                options.Cookie.SecurePolicy = builder.Environment.SecurePolicy();
            });
        }

        // Machine accounts of the clusters: bearer tokens, used only by the /api/v1 endpoints.
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ClusterTokenAuthentication>(ClusterTokenAuthentication.SchemeName, null);
        builder.Services.AddSingleton<ClusterTokenFailures>();

        builder.Services.AddAuthorizationBuilder()
            // Every page and endpoint needs a signed-in user unless it opts out with [AllowAnonymous].
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            // Staff roles need two-factor sign-in (Security:RequireTwoFactorForStaff); the refusal leads to /Account/TwoFactor.
            .AddPolicy(Policies.Admin, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin).AddRequirements(new StaffTwoFactorRequirement()))
            .AddPolicy(Policies.Reviewer, p => p.RequireAuthenticatedUser().RequireRole(Roles.Reviewer).AddRequirements(new StaffTwoFactorRequirement()))
            .AddPolicy(Policies.Compliance, p => p.RequireAuthenticatedUser().RequireRole(Roles.Compliance).AddRequirements(new StaffTwoFactorRequirement()))
            .AddPolicy(Policies.Safety, p => p.RequireAuthenticatedUser().RequireRole(Roles.Safety).AddRequirements(new StaffTwoFactorRequirement()))
            .AddPolicy(Policies.Researcher, p => p.RequireAuthenticatedUser().RequireRole(Roles.Researcher))
            .AddPolicy(ClusterTokenAuthentication.Policy, p => p
                .AddAuthenticationSchemes(ClusterTokenAuthentication.SchemeName)
                .RequireAuthenticatedUser()
                .RequireClaim(ClusterTokenAuthentication.ClusterIdClaim));
        builder.Services.AddSingleton<IAuthorizationHandler, StaffTwoFactorHandler>();
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, StaffTwoFactorRedirect>();
    }
}

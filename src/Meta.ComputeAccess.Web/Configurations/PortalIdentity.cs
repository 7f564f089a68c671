using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Microsoft.AspNetCore.Authorization;
using Meta.ComputeAccess.Web.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;

namespace Meta.ComputeAccess.Web.Configurations;

/// <summary>Names of the authorization policies; each role has a policy of its name.</summary>
public static class Policies
{
    public const string Admin = Roles.Admin;
    public const string Reviewer = Roles.Reviewer;
    public const string Researcher = Roles.Researcher;
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
                // Length over composition rules (NIST SP 800-63B).
                options.Password.RequiredLength = 12;
                options.Password.RequireNonAlphanumeric = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireDigit = false;
                options.Password.RequiredUniqueChars = 4;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
            })
            .AddEntityFrameworkStores<PortalDbContext>()
            .AddClaimsPrincipalFactory<Meta.ComputeAccess.Web.Infrastructure.PortalClaimsFactory>()
            .AddDefaultTokenProviders();

        builder.Services.Configure<DataProtectionTokenProviderOptions>(o => o.TokenLifespan = TimeSpan.FromDays(2));
        // Revoked roles and "sign out everywhere" take effect within minutes, not at cookie expiry.
        builder.Services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromMinutes(5));

        builder.Services.ConfigureApplicationCookie(options =>
        {
            options.Cookie.Name = "mca.auth";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.Cookie.SecurePolicy = builder.Environment.IsDevelopment() || builder.Environment.IsEnvironment("Testing")
                ? CookieSecurePolicy.SameAsRequest
                : CookieSecurePolicy.Always;
            options.LoginPath = "/Account/Login";
            options.LogoutPath = "/Account/Logout";
            options.AccessDeniedPath = "/Account/AccessDenied";
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            options.SlidingExpiration = true;
        });

        // Machine accounts of the clusters: bearer tokens, used only by the /api/v1 endpoints.
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ClusterTokenAuthentication>(ClusterTokenAuthentication.SchemeName, null);

        builder.Services.AddAuthorizationBuilder()
            // Every page and endpoint needs a signed-in user unless it opts out with [AllowAnonymous].
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(Policies.Admin, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin))
            .AddPolicy(Policies.Reviewer, p => p.RequireAuthenticatedUser().RequireRole(Roles.Reviewer))
            .AddPolicy(Policies.Researcher, p => p.RequireAuthenticatedUser().RequireRole(Roles.Researcher))
            .AddPolicy(ClusterTokenAuthentication.Policy, p => p
                .AddAuthenticationSchemes(ClusterTokenAuthentication.SchemeName)
                .RequireAuthenticatedUser()
                .RequireClaim(ClusterTokenAuthentication.ClusterIdClaim));
    }
}

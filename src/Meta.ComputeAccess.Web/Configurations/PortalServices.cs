using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Compliance;
using Meta.ComputeAccess.Safety;
using Meta.ComputeAccess.Terms;
using Meta.ComputeAccess.Privacy;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Demo;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Jobs;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Reports;
using Meta.ComputeAccess.Usage;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Pages.Dashboard;
using Meta.ComputeAccess.Web.Platform;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Meta.ComputeAccess.Web.Configurations;

public static class PortalServices
{
    /// <summary>Everything the portal needs, in the order a reader looks for it.</summary>
    public static WebApplicationBuilder AddPortal(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(PortalDatabase.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                "No database configured. Set ConnectionStrings__Portal, or start the portal with deploy/local/start.sh, which runs a local PostgreSQL.");
        }

        builder.AddPortalLogging();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddDbContext<PortalDbContext>(o => PortalDatabase.Configure(o, connectionString));
        // Keys live in PostgreSQL so every instance can read the others' cookies; in production they are
        // encrypted at rest with a certificate when DataProtection:CertificatePath is set.
        var dataProtection = builder.Services.AddDataProtection()
            .SetApplicationName("MetaComputeAccess")
            .PersistKeysToDbContext<PortalDbContext>();
        if (builder.Configuration["DataProtection:CertificatePath"] is { Length: > 0 } certificatePath)
        {
            dataProtection.ProtectKeysWithCertificate(System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(
                certificatePath, builder.Configuration["DataProtection:CertificatePassword"]));
        }

        builder.AddPortalIdentity();
        builder.AddPortalFederatedSignIn();
        builder.AddPortalJobs(connectionString);

        builder.Services
            .AddAuditModule()
            .AddIdentityModule()
            .AddNotificationsModule(builder.Configuration)
            .AddHousekeepingModule()
            .AddDemoModule()
            .AddProposalsModule()
            .AddCallsModule()
            .AddClustersModule(builder.Configuration)
            .AddReviewModule()
            .AddAllocationsModule(builder.Configuration)
            .AddUsageModule(builder.Configuration)
            .AddReportsModule()
            .AddComplianceModule(builder.Configuration)
            .AddTermsModule()
            .AddSafetyModule(builder.Configuration)
            .AddPrivacyModule(builder.Configuration);
        builder.Services.AddScoped<AccountEmails>();
        builder.Services.AddScoped<AccountRegistration>();
        builder.Services.AddScoped<IAccountMail>(sp => sp.GetRequiredService<AccountEmails>());
        builder.Services.AddScoped<SignInAlerts>();
        builder.Services.AddScoped<SignInHistory>();
        builder.Services.AddOptions<AdminDashboardOptions>().Bind(builder.Configuration.GetSection(AdminDashboardOptions.Section))
            .Validate(o => o.KeepFromQueuedProposals >= 0 && o.KeepFor >= TimeSpan.Zero && o.KeepFor <= TimeSpan.FromMinutes(5),
                "AdminDashboard: KeepFromQueuedProposals must be 0 or more and KeepFor between 0 and 5 minutes.")
            .ValidateOnStart();
        builder.Services.AddSingleton<AdminDashboardCache>();

        // PostgreSQL down or restarting: 503 with Retry-After instead of a 500 (see docs/reliability.md).
        builder.Services.AddExceptionHandler<DatabaseUnavailableHandler>();

        builder.Services.AddHealthChecks()
            .AddNpgSql(connectionString, name: "postgresql", tags: ["ready"])
            .AddCheck<HangfireStorageHealthCheck>("hangfire", tags: ["ready"]);

        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            // Only the configured reverse proxies are trusted to say who the client is.
            foreach (var proxy in builder.Configuration.GetSection("ForwardedHeaders:KnownProxies").Get<string[]>() ?? [])
            {
                options.KnownProxies.Add(System.Net.IPAddress.Parse(proxy));
            }
            foreach (var network in builder.Configuration.GetSection("ForwardedHeaders:KnownNetworks").Get<string[]>() ?? [])
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });

        builder.AddPortalPages();
        builder.AddPortalRateLimits();
        return builder;
    }
}

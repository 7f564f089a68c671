using Hangfire.PostgreSql;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Demo;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Configurations;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace Meta.ComputeAccess.Web.Operations;

/// <summary>
/// Operator commands run by the web executable: <c>Meta.ComputeAccess.Web migrate</c> and so on.
/// Each is documented in docs/operations.md and prints what it did; a failure exits non-zero with a message.
/// </summary>
public sealed class PortalCommands
{
    private static readonly Dictionary<string, Func<IServiceProvider, string[], Task<int>>> Commands = new(StringComparer.Ordinal)
    {
        ["migrate"] = MigrateAsync,
        ["seed-demo"] = SeedDemoAsync,
        ["admin"] = AdminAsync,
        ["help"] = (_, _) => Task.FromResult(Help()),
    };

    private readonly string name;
    private readonly string[] rest;

    private PortalCommands(string name, string[] rest)
    {
        this.name = name;
        this.rest = rest;
    }

    /// <summary>Arguments given to the host: none, so command options never turn into configuration keys.</summary>
    public string[] HostArgs => [];

    /// <summary>The command named by the first argument, or null to run the web portal.</summary>
    public static PortalCommands? Parse(string[] args) =>
        args.Length > 0 && (Commands.ContainsKey(args[0]) || args[0] is "--help" or "-h")
            ? new PortalCommands(args[0] is "--help" or "-h" ? "help" : args[0], args[1..])
            : null;

    /// <summary>Extends the command set; modules add their own commands (for example <c>cluster</c>).</summary>
    public static void Register(string command, Func<IServiceProvider, string[], Task<int>> run) => Commands[command] = run;

    public async Task<int> RunAsync(IServiceProvider services)
    {
        try
        {
            return await Commands[name](services, rest);
        }
        catch (DomainException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
    }

    private static int Help()
    {
        Console.WriteLine("""
            Meta Compute Access: run with no arguments to serve the portal, or with a command:

              migrate                         apply database migrations (and create the Hangfire schema)
              seed-demo                       add the demo program (Development only; does nothing if already seeded)
              admin create --email E [--name N]
                                              create an admin and print a one-time link to set the password
              cluster token create <slug> [--name N]
                                              create an API token for a cluster and print it once
              help                            this text

            Configuration comes from appsettings.json, the environment (ConnectionStrings__Portal, ...) and user secrets.
            """);
        return 0;
    }

    private static async Task<int> MigrateAsync(IServiceProvider root, string[] args)
    {
        await using var scope = root.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        // Npgsql finds out whether the history table exists by reading it and catching the failure, which EF logs as an
        // error first: on a new database that looks like a broken start. Create the (empty) table first, as Migrate itself
        // does next, with the provider's statement that tolerates a second instance doing the same at once.
        await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync();
        var pending = (await db.Database.GetPendingMigrationsAsync()).ToList();
        await db.Database.MigrateAsync();
        // Hangfire's schema too: serving instances never create or upgrade it (PortalJobs).
        await using (var connection = new NpgsqlConnection(db.Database.GetConnectionString()))
        {
            await connection.OpenAsync();
            PostgreSqlObjectsInstaller.Install(connection, PortalJobs.Schema);
        }
        // The first data-protection key is made here, once: instances starting together on a new database would each
        // make their own, and a cookie protected with one would not open on the others until they reload the key ring.
        var keys = scope.ServiceProvider.GetRequiredService<IKeyManager>();
        var now = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow();
        if (!keys.GetAllKeys().Any(k => !k.IsRevoked && k.ActivationDate <= now && k.ExpirationDate > now))
        {
            keys.CreateNewKey(now, now.AddDays(90));
        }
        Console.WriteLine(pending.Count == 0
            ? $"Database {PortalDatabase.Describe(db.Database.GetConnectionString()!)} is up to date."
            : $"Applied {English.Count(pending.Count, "migration")} to {PortalDatabase.Describe(db.Database.GetConnectionString()!)}: {string.Join(", ", pending)}");
        return 0;
    }

    private static async Task<int> SeedDemoAsync(IServiceProvider root, string[] args)
    {
        var env = root.GetRequiredService<IHostEnvironment>();
        if (!env.IsDevelopment())
        {
            throw new DomainException($"seed-demo adds accounts with public passwords and runs only in Development (this is {env.EnvironmentName}).");
        }
        await using var scope = root.CreateAsyncScope();
        var seeded = await scope.ServiceProvider.GetRequiredService<DemoSeeder>().SeedAsync();
        Console.WriteLine(seeded ? "Demo program seeded." : "Demo program already present; nothing changed.");
        Console.WriteLine($"Demo accounts (password for all: {DemoSeeder.Password}):");
        foreach (var account in DemoSeeder.Accounts)
        {
            Console.WriteLine($"  {account.Role,-11} {account.Email,-42} {account.FullName}");
        }
        return 0;
    }

    private static async Task<int> AdminAsync(IServiceProvider root, string[] args)
    {
        if (args.Length == 0 || args[0] != "create")
        {
            throw new DomainException("usage: admin create --email <address> [--name <full name>]");
        }
        var email = Option(args, "--email") ?? throw new DomainException("admin create needs --email <address>.");
        var name = Option(args, "--name") ?? email;
        if (!System.Net.Mail.MailAddress.TryCreate(email, out _))
        {
            throw new DomainException($"'{email}' is not an email address.");
        }

        await using var scope = root.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var users = services.GetRequiredService<UserManager<PortalUser>>();
        var db = services.GetRequiredService<PortalDbContext>();
        if (await users.FindByEmailAsync(email) is not null)
        {
            throw new DomainException($"A user with email {email} already exists; grant the Admin role from /Admin/Users instead.");
        }
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var user = new PortalUser { UserName = email, Email = email, FullName = name, Institution = "Program staff", Country = "US", CreatedAt = now };
        // The operator vouches for the address; the set-password link is the proof of possession.
        user.MarkEmailConfirmed();

        await using var tx = await db.Database.BeginTransactionAsync();
        (await users.CreateAsync(user)).ThrowIfFailed();
        (await users.AddToRolesAsync(user, [Roles.Admin, Roles.Researcher])).ThrowIfFailed();
        services.GetRequiredService<AuditLog>().Record(null, "admin.created", "user", user.Id.ToString(), "Admin account created from the command line");
        await db.SaveChangesAsync();
        await tx.CommitAsync();

        var link = await services.GetRequiredService<AccountEmails>().PasswordResetLinkAsync(user);
        Console.WriteLine($"Created admin {email}. Open this link once to choose a password (valid 48 hours):");
        Console.WriteLine(link);
        return 0;
    }

    public static string? Option(string[] args, string option)
    {
        var i = Array.IndexOf(args, option);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

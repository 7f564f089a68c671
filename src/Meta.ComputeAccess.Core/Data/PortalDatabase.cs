using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Meta.ComputeAccess.Data;

/// <summary>How every part of the portal (web host, command line, tests) configures its DbContext.</summary>
public static class PortalDatabase
{
    public const string ConnectionStringName = "Portal";

    public static void Configure(DbContextOptionsBuilder options, string connectionString) =>
        options
            .UseNpgsql(Prepared(connectionString), npgsql => npgsql
                .MigrationsHistoryTable("__ef_migrations_history")
                // Calls own two collections (clusters, rubric); one query per collection avoids a cartesian product.
                .UseQuerySplittingBehavior(QuerySplittingBehavior.SplitQuery))
            .UseSnakeCaseNamingConvention();

    /// <summary>
    /// The statements a connection sends again and again (every page's EF queries, the session and terms checks) are
    /// prepared on the server after their second use, so PostgreSQL parses and plans each once per connection instead
    /// of on every request. A connection string that sets <c>Max Auto Prepare</c> itself (0 turns it off, as a
    /// transaction-mode pooler older than PgBouncer 1.21 needs) keeps its value.
    /// </summary>
    public static string Prepared(string connectionString)
    {
        // Npgsql's own builder answers ContainsKey for every keyword it knows; the plain one says what the string sets.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (given.ContainsKey("Max Auto Prepare") || given.ContainsKey("MaxAutoPrepare"))
        {
            return connectionString;
        }
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.MaxAutoPrepare = 256;
        builder.AutoPrepareMinUsages = 2;
        return builder.ConnectionString;
    }

    public static DbContextOptions<PortalDbContext> Options(string connectionString)
    {
        var builder = new DbContextOptionsBuilder<PortalDbContext>();
        Configure(builder, connectionString);
        return builder.Options;
    }

    /// <summary>The connection string with its password removed, for messages and logs.</summary>
    public static string Describe(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString) { Password = null };
        return $"{b.Host}:{b.Port}/{b.Database}";
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running server.</summary>
public sealed class DesignTimePortalDbContextFactory : Microsoft.EntityFrameworkCore.Design.IDesignTimeDbContextFactory<PortalDbContext>
{
    public PortalDbContext CreateDbContext(string[] args) =>
        new(PortalDatabase.Options("Host=127.0.0.1;Database=design_time_only"));
}

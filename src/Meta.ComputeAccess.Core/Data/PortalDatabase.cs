using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Meta.ComputeAccess.Data;

/// <summary>How every part of the portal (web host, command line, tests) configures its DbContext.</summary>
public static class PortalDatabase
{
    public const string ConnectionStringName = "Portal";

    public static void Configure(DbContextOptionsBuilder options, string connectionString) =>
        options
            .UseNpgsql(connectionString, npgsql => npgsql
                .MigrationsHistoryTable("__ef_migrations_history")
                // Calls own two collections (clusters, rubric); one query per collection avoids a cartesian product.
                .UseQuerySplittingBehavior(QuerySplittingBehavior.SplitQuery))
            .UseSnakeCaseNamingConvention();

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

using Hangfire.PostgreSql;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Meta.ComputeAccess.Testing;

/// <summary>
/// The throwaway PostgreSQL started by deploy/local/test.sh (its admin connection string is in PORTAL_TEST_PG).
/// A template database is migrated once per test process with the real migrations; each test class clones it
/// with CREATE DATABASE ... TEMPLATE, so classes run in parallel and never see each other's rows.
/// </summary>
public static class TestDatabases
{
    private static readonly Lazy<Task<string>> Template = new(CreateTemplateAsync);

    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable("PORTAL_TEST_PG") is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException(
                "PORTAL_TEST_PG is not set. Run the tests with deploy/local/test.sh, which starts a throwaway PostgreSQL and sets it.");

    /// <summary>Creates a fresh database cloned from the migrated template and returns its connection string.</summary>
    public static async Task<string> CreateAsync(string purpose)
    {
        var template = await Template.Value;
        var name = $"mca_{Sanitize(purpose)}_{Guid.NewGuid():N}"[..Math.Min(63, 4 + Sanitize(purpose).Length + 33)];
        await ExecuteAsync($"CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
        return ConnectionStringFor(name);
    }

    /// <summary>Creates an empty database (no migrations applied), for tests of the migrations themselves.</summary>
    public static async Task<string> CreateEmptyAsync(string purpose)
    {
        var name = $"mca_{Sanitize(purpose)}_{Guid.NewGuid():N}"[..Math.Min(63, 4 + Sanitize(purpose).Length + 33)];
        await ExecuteAsync($"CREATE DATABASE \"{name}\"");
        return ConnectionStringFor(name);
    }

    public static Task DropAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        return ExecuteAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    }

    public static string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = database, Pooling = true, MaxPoolSize = 50 }.ConnectionString;

    private static async Task<string> CreateTemplateAsync()
    {
        var name = $"mca_template_{Environment.ProcessId}_{Guid.NewGuid():N}"[..40];
        await ExecuteAsync($"CREATE DATABASE \"{name}\"");
        await MigrateAsync(ConnectionStringFor(name));
        // A template must have no open connections when it is cloned.
        NpgsqlConnection.ClearAllPools();
        return name;
    }

    /// <summary>What the portal's <c>migrate</c> command does: the real migrations, then Hangfire's schema (which a serving portal never creates).</summary>
    public static async Task MigrateAsync(string connectionString)
    {
        await using (var db = new PortalDbContext(PortalDatabase.Options(connectionString)))
        {
            await db.Database.MigrateAsync();
        }
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        PostgreSqlObjectsInstaller.Install(connection, "hangfire");
    }

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static string Sanitize(string s) => new([.. s.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(20)]);
}

using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Meta.ComputeAccess.Usage;

/// <summary>
/// Keeps the monthly partitions of <c>usage_records</c> and <c>unmatched_usage</c> ahead of the jobs: makes sure both
/// tables' partitions of the current UTC month and the next <see cref="MonthsAhead"/> exist (the SQL function
/// <c>usage_partition(table, month)</c> of the migration PartitionUnmatchedByMonth, which also moves that month's rows out
/// of the table's default partition should any have landed there). Safe to run twice: an existing partition is left
/// alone. Daily, so a missed run or a stopped job server leaves months to spare.
/// </summary>
public sealed partial class UsagePartitionsJob(PortalDbContext db, TimeProvider clock, ILogger<UsagePartitionsJob> logger)
{
    public const int MonthsAhead = 3;

    /// <summary>The tables partitioned by month of the job's end, each with a default partition <c>{table}_default</c>.</summary>
    public static readonly IReadOnlyList<string> Tables = ["usage_records", "unmatched_usage"];

    /// <summary>Returns how many partitions it created (of both tables).</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var month = new DateOnly(today.Year, today.Month, 1);
        var created = 0;
        for (var i = 0; i <= MonthsAhead; i++)
        {
            var first = month.AddMonths(i);
            foreach (var table in Tables)
            {
                // One transaction per table and month: the function locks the table for the moment it takes.
                if (await EnsureMonthAsync(db, table, first, cancellationToken))
                {
                    created++;
                    LogCreated(logger, table, first.Year, first.Month);
                }
            }
        }
        var waiting = await db.Database.SqlQuery<DefaultPartition>($"""
            SELECT 'usage_records' AS "Table", count(*) AS "Rows" FROM usage_records_default
            UNION ALL SELECT 'unmatched_usage', count(*) FROM unmatched_usage_default
            """).ToListAsync(cancellationToken);
        foreach (var (table, rows) in waiting.Where(w => w.Rows > 0))
        {
            // Jobs ending outside every monthly partition (long before the portal's first month, or a month the job had not
            // reached yet): still stored, charged or queued, just not in a partition of their own.
            LogDefaultNotEmpty(logger, rows, table);
        }
        return created;
    }

    /// <summary>Makes the partitions of the UTC month holding <paramref name="day"/> of both tables unless they exist; true when it made one.</summary>
    internal static async Task<bool> EnsureMonthAsync(PortalDbContext db, DateOnly day, CancellationToken cancellationToken)
    {
        var made = false;
        foreach (var table in Tables)
        {
            made |= await EnsureMonthAsync(db, table, day, cancellationToken);
        }
        return made;
    }

    private sealed record DefaultPartition(string Table, long Rows);

    private static Task<bool> EnsureMonthAsync(PortalDbContext db, string table, DateOnly day, CancellationToken cancellationToken) =>
        db.Database.SqlQuery<bool>($"SELECT usage_partition({table}, {day}) AS \"Value\"").SingleAsync(cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the {Table} partition of {Year}-{Month:00}")]
    private static partial void LogCreated(ILogger logger, string table, int year, int month);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} rows are in the default partition of {Table}")]
    private static partial void LogDefaultNotEmpty(ILogger logger, long count, string table);
}

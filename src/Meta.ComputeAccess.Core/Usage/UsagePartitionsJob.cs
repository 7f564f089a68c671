using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Meta.ComputeAccess.Usage;

/// <summary>
/// Keeps <c>usage_records</c>' monthly partitions ahead of the jobs: makes sure the partitions of the current UTC month and
/// the next <see cref="MonthsAhead"/> exist (the migration PartitionUsageByMonth's <c>usage_records_partition(month)</c>,
/// which also moves that month's jobs out of the default partition should any have landed there). Safe to run twice: an
/// existing partition is left alone. Daily, so a missed run or a stopped job server leaves months to spare.
/// </summary>
public sealed partial class UsagePartitionsJob(PortalDbContext db, TimeProvider clock, ILogger<UsagePartitionsJob> logger)
{
    public const int MonthsAhead = 3;

    /// <summary>Returns how many partitions it created.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var month = new DateOnly(today.Year, today.Month, 1);
        var created = 0;
        for (var i = 0; i <= MonthsAhead; i++)
        {
            var first = month.AddMonths(i);
            // One transaction per month: the function locks usage_records for the moment it takes.
            if (await EnsureMonthAsync(db, first, cancellationToken))
            {
                created++;
                LogCreated(logger, first.Year, first.Month);
            }
        }
        var waiting = await db.Database.SqlQuery<long>($"SELECT count(*) AS \"Value\" FROM usage_records_default").SingleAsync(cancellationToken);
        if (waiting > 0)
        {
            // Jobs ending outside every monthly partition (long before the portal's first month, or a month the job had not
            // reached yet): still stored and charged, just not in a partition of their own.
            LogDefaultNotEmpty(logger, waiting);
        }
        return created;
    }

    /// <summary>Makes the partition of the UTC month holding <paramref name="day"/> unless it exists; true when it made it.</summary>
    internal static Task<bool> EnsureMonthAsync(PortalDbContext db, DateOnly day, CancellationToken cancellationToken) =>
        db.Database.SqlQuery<bool>($"SELECT usage_records_partition({day}) AS \"Value\"").SingleAsync(cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the usage_records partition of {Year}-{Month:00}")]
    private static partial void LogCreated(ILogger logger, int year, int month);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} usage records are in the default partition of usage_records")]
    private static partial void LogDefaultNotEmpty(ILogger logger, long count);
}

using System.Text;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>usage_records and unmatched_usage are partitioned by month of job end; the recurring job makes both tables' partitions ahead.</summary>
public sealed class UsagePartitionTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private async Task<string> PartitionOfAsync(Guid clusterId, string jobId)
    {
        await using var db = factory.NewDbContext();
        return await db.Database.SqlQuery<string>($"SELECT tableoid::regclass::text AS \"Value\" FROM usage_records WHERE cluster_id = {clusterId} AND job_id = {jobId}").SingleAsync();
    }

    private async Task<List<string>> QueuedPartitionsAsync(Guid clusterId, string jobId)
    {
        await using var db = factory.NewDbContext();
        return await db.Database.SqlQuery<string>($"SELECT tableoid::regclass::text AS \"Value\" FROM unmatched_usage WHERE cluster_id = {clusterId} AND job_id = {jobId}").ToListAsync();
    }

    private static string MonthOf(string table, DateTime day) => $"{table}_y{day:yyyy}m{day:MM}";

    private Task<UsageReceipt> ReceiveAsync(Guid clusterId, string body) =>
        factory.WithScopeAsync(sp => sp.GetRequiredService<UsageIngest>().ReceiveAsync(clusterId, new MemoryStream(Encoding.UTF8.GetBytes(body)), UsageBodyFormat.SacctParsable2));

    [Fact]
    public async Task The_partition_job_makes_both_tables_months_this_month_and_three_ahead_once_and_moves_jobs_waiting_in_the_default_partitions_into_theirs()
    {
        // A year on, no partition exists yet for the month: a job ending then waits in the default partition.
        factory.Clock.Advance(TimeSpan.FromDays(365));
        if (factory.Clock.GetUtcNow().Day == 1)
        {
            factory.Clock.Advance(TimeSpan.FromDays(1)); // yesterday in this month
        }
        var cluster = await factory.CreateClusterAsync("months");
        var body = factory.Sacct(("70", "months-acct", 2));
        Assert.Equal(1, (await ReceiveAsync(cluster.Id, body)).Ingested!.Unmatched);
        Assert.Equal("usage_records_default", await PartitionOfAsync(cluster.Id, "70"));
        Assert.Equal(["unmatched_usage_default"], await QueuedPartitionsAsync(cluster.Id, "70"));

        var created = await factory.WithScopeAsync(sp => sp.GetRequiredService<UsagePartitionsJob>().RunAsync());
        var again = await factory.WithScopeAsync(sp => sp.GetRequiredService<UsagePartitionsJob>().RunAsync());

        var end = factory.Clock.GetUtcNow().UtcDateTime.Date.AddDays(-1);
        Assert.Equal(MonthOf("usage_records", end), await PartitionOfAsync(cluster.Id, "70"));
        Assert.Equal([MonthOf("unmatched_usage", end)], await QueuedPartitionsAsync(cluster.Id, "70"));
        var month = factory.Clock.GetUtcNow().UtcDateTime.Date;
        await using (var db = factory.NewDbContext())
        {
            foreach (var table in new[] { "usage_records", "unmatched_usage" })
            {
                for (var i = 0; i <= UsagePartitionsJob.MonthsAhead; i++)
                {
                    var name = MonthOf(table, month.AddMonths(i));
                    Assert.True(await db.Database.SqlQuery<bool>($"SELECT to_regclass({name}) IS NOT NULL AS \"Value\"").SingleAsync(), name);
                }
            }
            Assert.Equal(0, await db.Database.SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM usage_records_default").SingleAsync());
            Assert.Equal(0, await db.Database.SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM unmatched_usage_default").SingleAsync());
        }
        Assert.Equal(2 * (UsagePartitionsJob.MonthsAhead + 1), created);
        Assert.Equal(0, again);

        // The job sent again, with the same end, lands in the same partitions: a duplicate, recorded and queued once.
        var resent = await ReceiveAsync(cluster.Id, body);
        Assert.Equal((0, 1), (resent.Ingested!.Accepted, resent.Ingested.Duplicate));
        await using var check = factory.NewDbContext();
        Assert.Equal(1, await check.UsageRecords.CountAsync(u => u.ClusterId == cluster.Id));
        Assert.Equal(1, await check.UnmatchedUsage.CountAsync(u => u.ClusterId == cluster.Id));
    }

    [Fact]
    public async Task An_unmatched_job_is_queued_in_its_end_months_partition_and_resolved_there_by_id()
    {
        if (factory.Clock.GetUtcNow().Day == 1)
        {
            factory.Clock.Advance(TimeSpan.FromDays(1)); // yesterday in this month, whose partitions the job makes
        }
        await factory.WithScopeAsync(sp => sp.GetRequiredService<UsagePartitionsJob>().RunAsync());
        var cluster = await factory.CreateClusterAsync("queued");
        var body = factory.Sacct(("80", "queued-typo", 1), ("81", "queued-typo", 3));

        var first = await ReceiveAsync(cluster.Id, body);
        var again = await ReceiveAsync(cluster.Id, body);

        Assert.Equal((2, 2), (first.Ingested!.Accepted, first.Ingested.Unmatched));
        Assert.Equal((0, 2, 0), (again.Ingested!.Accepted, again.Ingested.Duplicate, again.Ingested.Unmatched));
        var end = factory.Clock.GetUtcNow().UtcDateTime.Date.AddDays(-1);
        Assert.Equal([MonthOf("unmatched_usage", end)], await QueuedPartitionsAsync(cluster.Id, "80"));
        await using var db = factory.NewDbContext();
        var queued = await db.UnmatchedUsage.Where(u => u.ClusterId == cluster.Id).OrderBy(u => u.JobId).ToListAsync();
        Assert.Equal(["80", "81"], queued.Select(u => u.JobId));
        // The queued row carries its record's end, the key of the partition both live in.
        var records = await db.UsageRecords.Where(u => u.ClusterId == cluster.Id).OrderBy(u => u.JobId).Select(u => u.EndedAt).ToListAsync();
        Assert.Equal(records, queued.Select(u => u.EndedAt));

        var admin = await factory.CreateUserAsync("queued.admin@example.org", [Roles.Admin]);
        Assert.Equal(1, await factory.WithScopeAsync(sp => sp.GetRequiredService<UnmatchedUsageResolution>().DismissAsync(UnmatchedSelection.One(queued[1].Id), "Test job.", admin.Id)));
        await using var check = factory.NewDbContext();
        Assert.Equal([UnmatchedUsageStatus.Open, UnmatchedUsageStatus.Dismissed],
            await check.UnmatchedUsage.Where(u => u.ClusterId == cluster.Id).OrderBy(u => u.JobId).Select(u => u.Status).ToListAsync());
    }
}

using System.Text;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>usage_records is partitioned by month of job end; the recurring job makes the partitions ahead.</summary>
public sealed class UsagePartitionTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private async Task<string> PartitionOfAsync(Guid clusterId, string jobId)
    {
        await using var db = factory.NewDbContext();
        return await db.Database.SqlQuery<string>($"SELECT tableoid::regclass::text AS \"Value\" FROM usage_records WHERE cluster_id = {clusterId} AND job_id = {jobId}").SingleAsync();
    }

    private Task<UsageReceipt> ReceiveAsync(Guid clusterId, string body) =>
        factory.WithScopeAsync(sp => sp.GetRequiredService<UsageIngest>().ReceiveAsync(clusterId, new MemoryStream(Encoding.UTF8.GetBytes(body)), UsageBodyFormat.SacctParsable2));

    [Fact]
    public async Task The_partition_job_makes_this_month_and_three_ahead_once_and_moves_jobs_waiting_in_the_default_partition_into_theirs()
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

        var created = await factory.WithScopeAsync(sp => sp.GetRequiredService<UsagePartitionsJob>().RunAsync());
        var again = await factory.WithScopeAsync(sp => sp.GetRequiredService<UsagePartitionsJob>().RunAsync());

        var end = factory.Clock.GetUtcNow().UtcDateTime.Date.AddDays(-1);
        Assert.Equal($"usage_records_y{end:yyyy}m{end:MM}", await PartitionOfAsync(cluster.Id, "70"));
        var month = new DateOnly(factory.Clock.GetUtcNow().Year, factory.Clock.GetUtcNow().Month, 1);
        await using (var db = factory.NewDbContext())
        {
            for (var i = 0; i <= UsagePartitionsJob.MonthsAhead; i++)
            {
                var name = $"usage_records_y{month.AddMonths(i):yyyy}m{month.AddMonths(i):MM}";
                Assert.True(await db.Database.SqlQuery<bool>($"SELECT to_regclass({name}) IS NOT NULL AS \"Value\"").SingleAsync(), name);
            }
            Assert.Equal(0, await db.Database.SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM usage_records_default").SingleAsync());
        }
        Assert.Equal(UsagePartitionsJob.MonthsAhead + 1, created);
        Assert.Equal(0, again);

        // The job sent again, with the same end, lands in the same partition: a duplicate, recorded once.
        var resent = await ReceiveAsync(cluster.Id, body);
        Assert.Equal((0, 1), (resent.Ingested!.Accepted, resent.Ingested.Duplicate));
        await using var check = factory.NewDbContext();
        Assert.Equal(1, await check.UsageRecords.CountAsync(u => u.ClusterId == cluster.Id));
        Assert.Equal(1, await check.UnmatchedUsage.CountAsync(u => u.ClusterId == cluster.Id));
    }
}

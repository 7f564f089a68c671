using System.Net;
using System.Text;
using System.Text.Json;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Usage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>
/// The usage ingest's streaming path (jobs COPYed as the body arrives) and its fallback to the buffered path: with the probe
/// set to one job, every body of two or more jobs with submit times is streamed unless something sends it back.
/// </summary>
public sealed class UsageStreamingTests(UsageStreamingTests.StreamingPortal factory) : IClassFixture<UsageStreamingTests.StreamingPortal>
{
    public sealed class StreamingPortal : PortalFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Usage:StreamProbeJobs", "1");
        }
    }

    private const string Header = "JobID|Account|User|Submit|Start|End|ElapsedRaw|AllocTRES|State";

    private static string Line(string jobId, string account, DateTime submit, DateTime end, int gpus) =>
        $"{jobId}|{account}|alice|{submit:yyyy-MM-ddTHH:mm:ss}|{end.AddHours(-1):yyyy-MM-ddTHH:mm:ss}|{end:yyyy-MM-ddTHH:mm:ss}|3600|gres/gpu={gpus}|COMPLETED";

    private static string Body(params string[] lines) => Header + "\n" + string.Join('\n', lines) + "\n";

    private DateTime Yesterday => factory.Clock.GetUtcNow().UtcDateTime.Date.AddDays(-1).AddHours(12);

    private async Task<(Guid Cluster, Guid Allocation)> ArrangeAsync(string slug)
    {
        var cluster = await factory.CreateClusterAsync(slug);
        var period = await factory.CreatePeriodAsync("Period of " + slug);
        await factory.SetCapacityAsync(cluster, period, 100_000m);
        var pi = await factory.CreateUserAsync($"{slug}.pi@example.edu");
        var allocation = await factory.GrantAsync(period, pi.Id, "Project " + slug, new Dictionary<Guid, decimal> { [cluster.Id] = 1_000m }, account: slug + "-acct");
        return (cluster.Id, allocation.Id);
    }

    private Task<UsageReceipt> ReceiveAsync(Guid clusterId, string body) =>
        factory.WithScopeAsync(sp => sp.GetRequiredService<UsageIngest>().ReceiveAsync(clusterId, new MemoryStream(Encoding.UTF8.GetBytes(body)), UsageBodyFormat.SacctParsable2));

    /// <summary>Usage records' GPU-hours, the allocation's usage ledger (negative) and its quota's used hours, and the records.</summary>
    private async Task<(decimal Usage, decimal Ledger, decimal Used, int Records)> TotalsAsync(Guid clusterId, Guid allocationId)
    {
        await using var db = factory.NewDbContext();
        await LedgerInvariantTests.AssertUserTotalsAsync(db);
        return (await db.UsageRecords.Where(u => u.ClusterId == clusterId).SumAsync(u => u.GpuHours),
            await db.LedgerEntries.Where(e => e.AllocationId == allocationId && e.Kind == LedgerEntryKind.Usage).SumAsync(e => e.Hours),
            (await db.AllocationQuotas.SingleAsync(q => q.AllocationId == allocationId)).UsedHours,
            await db.UsageRecords.CountAsync(u => u.ClusterId == clusterId));
    }

    [Fact]
    public async Task A_streamed_batch_is_charged_and_kept_like_the_buffered_path_and_the_same_batch_again_is_all_duplicates()
    {
        var (cluster, allocation) = await ArrangeAsync("stream");
        var end = Yesterday;
        var body = Body(Line("10", "stream-acct", end.AddHours(-3), end, 1), Line("11", "stream-acct", end.AddHours(-3), end, 2),
            Line("12", "nobody", end.AddHours(-3), end, 4), Line("13_1", "stream-acct", end.AddHours(-3), end, 3));

        var first = await ReceiveAsync(cluster, body);

        Assert.True(first.Streamed);
        Assert.Equal((4, 3, 6m, 1, 0), (first.Ingested!.Accepted, first.Ingested.Charged, first.Ingested.ChargedGpuHours, first.Ingested.Unmatched, first.Ingested.Duplicate));
        Assert.Equal((10m, -6m, 6m, 4), await TotalsAsync(cluster, allocation));
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(UnmatchedReason.UnknownAccount, (await db.UnmatchedUsage.SingleAsync(u => u.ClusterId == cluster)).Reason);
        }

        var again = await ReceiveAsync(cluster, body);

        Assert.False(again.Streamed);
        Assert.Equal((0, 4), (again.Ingested!.Accepted, again.Ingested.Duplicate));
        Assert.Equal((10m, -6m, 6m, 4), await TotalsAsync(cluster, allocation));
    }

    [Fact]
    public async Task A_known_job_after_the_first_one_sends_the_batch_back_to_the_lookup_and_only_the_new_jobs_are_charged()
    {
        var (cluster, allocation) = await ArrangeAsync("late");
        var end = Yesterday;
        var known = Line("21", "late-acct", end.AddHours(-3), end, 2);
        Assert.Equal(1, (await ReceiveAsync(cluster, Body(known))).Ingested!.Accepted);

        // 20 starts the stream; 21 is refused by the unique key when the COPY ends, and the batch is looked up instead.
        var receipt = await ReceiveAsync(cluster, Body(Line("20", "late-acct", end.AddHours(-3), end, 1), known, Line("22", "late-acct", end.AddHours(-3), end, 4)));

        Assert.False(receipt.Streamed);
        Assert.Equal((2, 2, 5m, 1), (receipt.Ingested!.Accepted, receipt.Ingested.Charged, receipt.Ingested.ChargedGpuHours, receipt.Ingested.Duplicate));
        Assert.Equal((7m, -7m, 7m, 3), await TotalsAsync(cluster, allocation));
    }

    [Fact]
    public async Task A_job_sent_again_with_another_end_is_another_report_and_is_queued_beside_its_first_report()
    {
        var (cluster, allocation) = await ArrangeAsync("moved");
        var end = Yesterday;
        var submitted = end.AddDays(-40);
        // Recorded with an end before the allocation began (kept as unmatched). Slurm never changes the End of a finished
        // job; only a hand edit of its records can. The identity is (cluster, id, submit time, end), as the partitions of
        // usage_records need, so the edited job is another report: recorded, and charged if an allocation pays for it.
        Assert.Equal(1, (await ReceiveAsync(cluster, Body(Line("31", "moved-acct", submitted, end.AddDays(-35), 2)))).Ingested!.Unmatched);

        // Edited again, still before the allocation: unmatched again, queued as a report of its own (the queue is keyed
        // as usage_records is, end included).
        var stillEarly = await ReceiveAsync(cluster, Body(Line("31", "moved-acct", submitted, end.AddDays(-34), 2), Line("30", "moved-acct", end.AddHours(-3), end, 1)));
        // Edited into the allocation's time: charged.
        var moved = await ReceiveAsync(cluster, Body(Line("31", "moved-acct", submitted, end, 2), Line("32", "moved-acct", end.AddHours(-3), end, 1)));

        Assert.Equal((2, 0, 1), (stillEarly.Ingested!.Accepted, stillEarly.Ingested.Duplicate, stillEarly.Ingested.Unmatched));
        Assert.Equal((2, 0, 2), (moved.Ingested!.Accepted, moved.Ingested.Duplicate, moved.Ingested.Charged));
        Assert.Equal((8m, -4m, 4m, 5), await TotalsAsync(cluster, allocation));
        await using var db = factory.NewDbContext();
        Assert.Equal([new DateTimeOffset(end.AddDays(-35), TimeSpan.Zero), new DateTimeOffset(end.AddDays(-34), TimeSpan.Zero)],
            await db.UnmatchedUsage.Where(u => u.ClusterId == cluster && u.JobId == "31").OrderBy(u => u.EndedAt).Select(u => u.EndedAt).ToListAsync());
    }

    [Fact]
    public async Task A_job_repeated_later_in_the_body_is_charged_once_as_its_later_line_says()
    {
        var (cluster, allocation) = await ArrangeAsync("repeat");
        var end = Yesterday;
        var receipt = await ReceiveAsync(cluster, Body(Line("40", "repeat-acct", end.AddHours(-3), end, 1), Line("41", "repeat-acct", end.AddHours(-3), end, 2),
            Line("40", "repeat-acct", end.AddHours(-3), end, 4)));

        Assert.False(receipt.Streamed);
        Assert.Equal((2, 1, 6m), (receipt.Ingested!.Accepted, receipt.Ingested.Duplicate, receipt.Ingested.ChargedGpuHours));
        Assert.Equal((6m, -6m, 6m, 2), await TotalsAsync(cluster, allocation));
    }

    [Fact]
    public async Task Invalid_utf8_after_the_stream_began_answers_400_and_leaves_nothing_recorded()
    {
        var (cluster, allocation) = await ArrangeAsync("broken");
        var token = await factory.CreateTokenAsync(await factory.NewDbContext().Clusters.SingleAsync(c => c.Id == cluster));
        using var client = factory.ApiClient(token);
        var end = Yesterday;
        var good = Body(Line("50", "broken-acct", end.AddHours(-3), end, 1), Line("51", "broken-acct", end.AddHours(-3), end, 1), Line("52", "broken-acct", end.AddHours(-3), end, 1));
        var bytes = Encoding.UTF8.GetBytes(good).Concat(new byte[] { 0x35, 0x33, 0x7C, 0xC3, 0x28, 0x0A }).ToArray();
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/plain");

        using var response = await client.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("The body is not valid UTF-8 text", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal((0m, 0m, 0m, 0), await TotalsAsync(cluster, allocation));
    }

    [Fact]
    public async Task Jobs_without_a_submit_time_are_not_streamed_and_keep_the_older_rule()
    {
        var (cluster, allocation) = await ArrangeAsync("older");
        var receipt = await ReceiveAsync(cluster, factory.Sacct(("60", "older-acct", 1), ("61", "older-acct", 2)));
        var end = Yesterday;
        // A cluster with jobs recorded without a submit time is not streamed either: 60 with its submit time is the same job.
        var agent = await ReceiveAsync(cluster, Body(Line("62", "older-acct", end.AddHours(-3), end, 1), Line("60", "older-acct", end.AddHours(-3), end, 1)));

        Assert.False(receipt.Streamed);
        Assert.Equal(2, receipt.Ingested!.Charged);
        Assert.False(agent.Streamed);
        Assert.Equal((1, 1), (agent.Ingested!.Accepted, agent.Ingested.Duplicate));
        Assert.Equal((4m, -4m, 4m, 3), await TotalsAsync(cluster, allocation));
    }
}

using System.Text;
using Meta.ComputeAccess.Usage;

namespace Meta.ComputeAccess.Core.Tests.Usage;

public sealed class SacctParserTests
{
    // The column set a cluster's cron job would ask for: sacct -a -P -S ... --format=JobID,JobName,...
    private const string Header = "JobID|JobName|Partition|Account|AllocCPUS|State|ExitCode|User|Start|End|ElapsedRaw|AllocTRES";

    private const string RealisticBody = Header + """

        4711|train-llm|h100|proj-llm|64|COMPLETED|0:0|alice|2026-03-01T10:00:00|2026-03-01T12:00:00|7200|billing=64,cpu=64,gres/gpu:h100=8,gres/gpu=8,mem=512G,node=1
        4711.batch|batch||proj-llm|64|COMPLETED|0:0||2026-03-01T10:00:00|2026-03-01T12:00:00|7200|cpu=64,gres/gpu:h100=8,gres/gpu=8,mem=512G,node=1
        4711.extern|extern||proj-llm|64|COMPLETED|0:0||2026-03-01T10:00:00|2026-03-01T12:00:00|7200|billing=64,cpu=64,gres/gpu:h100=8,gres/gpu=8,mem=512G,node=1
        4711.0|python||proj-llm|64|COMPLETED|0:0||2026-03-01T10:00:05|2026-03-01T11:59:58|7193|cpu=64,gres/gpu:h100=8,gres/gpu=8,mem=512G,node=1
        4800_1|sweep|h100|proj-rl|8|COMPLETED|0:0|bob|2026-03-01T09:00:00|2026-03-01T10:30:00|5400|billing=8,cpu=8,gres/gpu:h100=1,gres/gpu=1,mem=64G,node=1
        4800_1.batch|batch||proj-rl|8|COMPLETED|0:0||2026-03-01T09:00:00|2026-03-01T10:30:00|5400|cpu=8,gres/gpu:h100=1,gres/gpu=1,mem=64G,node=1
        4800_2|sweep|h100|proj-rl|8|TIMEOUT|0:0|bob|2026-03-01T09:00:00|2026-03-01T11:00:00|7200|billing=8,cpu=8,gres/gpu:h100=1,gres/gpu=1,mem=64G,node=1
        4800_[3-10]|sweep|h100|proj-rl|8|PENDING|0:0|bob|None|Unknown|0|billing=8,cpu=8,gres/gpu=1,mem=64G,node=1
        4900+0|hetjob|h100|proj-llm|16|COMPLETED|0:0|alice|2026-03-01T13:00:00|2026-03-01T14:00:00|3600|billing=16,cpu=16,gres/gpu=2,mem=128G,node=1
        4900+1|hetjob|cpu|proj-llm|32|COMPLETED|0:0|alice|2026-03-01T13:00:00|2026-03-01T14:00:00|3600|billing=32,cpu=32,mem=128G,node=1
        4900+0.0|python||proj-llm|16|COMPLETED|0:0||2026-03-01T13:00:01|2026-03-01T13:59:59|3598|cpu=16,gres/gpu=2,mem=128G,node=1
        4950|interactive|h100|proj-rl|8|CANCELLED by 1002|0:0|bob|2026-03-01T15:00:00|2026-03-01T15:30:00|1800|billing=8,cpu=8,gres/gpu=4,mem=64G,node=1
        4960|eval|h100|proj-llm|8|RUNNING|0:0|alice|2026-03-01T16:00:00|Unknown|900|billing=8,cpu=8,gres/gpu:h100=2,gres/gpu=2,mem=64G,node=1
        4961|eval|mtia|proj-llm|8|OUT_OF_MEMORY|0:125|alice|2026-03-01T16:00:00|2026-03-01T16:10:00|600|billing=8,cpu=8,gres/gpu:mtia=2,gres/gpu:h100=1,mem=64G,node=1
        """;

    private static UsageParseResult Sacct(string body, UsageParseOptions? options = null) =>
        SacctParser.Parse(new StringReader(body), UsageBodyFormat.SacctParsable2, options);

    private static UsageRecord Job(UsageParseResult result, string jobId) => Assert.Single(result.Chargeable, r => r.JobId == jobId);

    [Fact]
    public void Job_steps_are_not_charged_on_top_of_their_job()
    {
        var result = Sacct(RealisticBody);

        Assert.DoesNotContain(result.Chargeable, r => r.JobId.Contains('.', StringComparison.Ordinal));
        Assert.Equal(5, result.SkippedSteps);
        Assert.Equal(16m, Job(result, "4711").GpuHours);
        Assert.Empty(result.Rejected);
    }

    [Fact]
    public void Array_tasks_and_het_components_are_jobs_of_their_own()
    {
        var result = Sacct(RealisticBody);

        Assert.Equal(["4711", "4800_1", "4800_2", "4900+0", "4900+1", "4950", "4961"], result.Chargeable.Select(r => r.JobId));
        Assert.Equal(1.5m, Job(result, "4800_1").GpuHours);
        Assert.Equal(2m, Job(result, "4800_2").GpuHours);
        Assert.Equal(2m, Job(result, "4900+0").GpuHours);
    }

    [Fact]
    public void A_job_without_gpus_is_a_record_with_zero_gpu_hours()
    {
        var job = Job(Sacct(RealisticBody), "4900+1");

        Assert.Equal(0, job.GpuCount);
        Assert.Equal(0m, job.GpuHours);
        Assert.Equal(3600, job.ElapsedSeconds);
    }

    [Fact]
    public void Plain_gpu_total_is_not_added_to_its_typed_breakdown()
    {
        var job = Job(Sacct(RealisticBody), "4711");

        Assert.Equal(8, job.GpuCount);
    }

    [Fact]
    public void Typed_gpu_entries_are_summed_when_no_plain_total_is_printed()
    {
        var job = Job(Sacct(RealisticBody), "4961");

        Assert.Equal(3, job.GpuCount);
        Assert.Equal(0.5m, job.GpuHours);
    }

    [Fact]
    public void Gpu_memory_and_utilisation_tres_are_not_counted_as_gpus()
    {
        var body = Header + "\n1|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|cpu=8,gres/gpumem=80G,gres/gpuutil=90,gres/gpu=1,mem=8G";

        Assert.Equal(1, Job(Sacct(body), "1").GpuCount);
    }

    [Fact]
    public void Gpu_hours_keep_fractions_of_an_hour()
    {
        var body = Header + "\n1|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T10:00:10|10|gres/gpu=3";

        var job = Job(Sacct(body), "1");

        Assert.Equal(30, job.GpuSeconds);
        Assert.Equal(0.008333m, job.GpuHours);
    }

    [Fact]
    public void Cancelled_by_a_user_is_charged_as_cancelled()
    {
        var job = Job(Sacct(RealisticBody), "4950");

        Assert.Equal("CANCELLED", job.State);
        Assert.Equal(2m, job.GpuHours);
    }

    [Fact]
    public void Running_and_pending_jobs_are_reported_as_pending_and_not_charged()
    {
        var result = Sacct(RealisticBody);

        Assert.Equal(["4800_[3-10]", "4960"], result.Pending.Select(r => r.JobId));
        Assert.All(result.Pending, r => Assert.Null(r.End));
        Assert.Null(result.Pending[0].Start);
        Assert.DoesNotContain(result.Chargeable, r => r.JobId == "4960");
    }

    [Fact]
    public void A_finished_state_with_an_unknown_end_is_pending()
    {
        var body = Header + "\n1|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|Unknown|3600|gres/gpu=1";

        var result = Sacct(body);

        Assert.Empty(result.Chargeable);
        Assert.Equal("1", Assert.Single(result.Pending).JobId);
    }

    [Fact]
    public void Columns_are_found_in_any_order_and_extra_columns_are_ignored()
    {
        var body = """
            State|ElapsedRaw|NodeList|AllocTRES|End|Start|User|Account|JobID|Comment
            COMPLETED|3600|gt-node-017|billing=8,cpu=8,gres/gpu:h100=4,gres/gpu=4,mem=64G,node=1|2026-03-01T11:00:00|2026-03-01T10:00:00|carol|proj-vision|777|anything
            """;

        var job = Job(Sacct(body), "777");

        Assert.Equal(new UsageRecord(2, "777", null, "proj-vision", "carol", new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero),
            new DateTimeOffset(2026, 3, 1, 11, 0, 0, TimeSpan.Zero), 3600, 4, "COMPLETED", "billing=8,cpu=8,gres/gpu:h100=4,gres/gpu=4,mem=64G,node=1", ""), job);
        Assert.Equal(4m, job.GpuHours);
    }

    [Fact]
    public void A_header_without_a_required_column_rejects_the_body_and_names_the_column()
    {
        var body = """
            JobID|Account|User|Start|End|AllocTRES|State
            1|acct|u|2026-03-01T10:00:00|2026-03-01T11:00:00|gres/gpu=1|COMPLETED
            """;

        var result = Sacct(body);

        Assert.False(result.HeaderAccepted);
        Assert.Empty(result.Chargeable);
        var rejection = Assert.Single(result.Rejected);
        Assert.Equal(1, rejection.LineNumber);
        Assert.Contains("ElapsedRaw", rejection.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_body_without_a_header_is_rejected_as_a_whole()
    {
        var result = Sacct("1|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=1\n");

        Assert.False(result.HeaderAccepted);
        Assert.Contains("--noheader", Assert.Single(result.Rejected).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_last_line_is_rejected_with_its_line_number_and_the_rest_is_taken()
    {
        var body = RealisticBody + "\n4999|train|h100|proj-llm|8|COMPLETED|0:0|alice|2026-03-01T1";

        var result = Sacct(body);

        var rejection = Assert.Single(result.Rejected);
        Assert.Equal(16, rejection.LineNumber);
        Assert.Contains("truncated", rejection.Reason, StringComparison.Ordinal);
        Assert.Equal(7, result.Chargeable.Count);
    }

    [Fact]
    public void Blank_lines_and_crlf_line_endings_are_accepted()
    {
        var body = "\r\n" + RealisticBody.ReplaceLineEndings("\r\n").Replace("4800_1|", "\r\n\r\n4800_1|", StringComparison.Ordinal) + "\r\n\r\n";

        var result = Sacct(body);

        Assert.Empty(result.Rejected);
        Assert.Equal(7, result.Chargeable.Count);
        Assert.Equal("COMPLETED", Job(result, "4711").State);
        Assert.Equal("proj-rl", Job(result, "4800_1").Account);
        Assert.Equal(9, Job(result, "4800_1").LineNumber);
    }

    [Fact]
    public void A_non_numeric_elapsed_time_is_rejected_while_good_lines_are_taken()
    {
        var body = Header + """

            1|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|01:00:00|gres/gpu=1
            2|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=1
            """;

        var result = Sacct(body);

        var rejection = Assert.Single(result.Rejected);
        Assert.Equal(2, rejection.LineNumber);
        Assert.Contains("ElapsedRaw '01:00:00'", rejection.Reason, StringComparison.Ordinal);
        Assert.Equal("2", Assert.Single(result.Chargeable).JobId);
    }

    [Theory]
    [InlineData("03/01/2026 10:00")]
    [InlineData("2026-02-30T10:00:00")]
    [InlineData("1772359200")]
    public void An_unparseable_date_is_rejected_with_the_value(string end)
    {
        var body = Header + $"\n1|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|{end}|3600|gres/gpu=1";

        var rejection = Assert.Single(Sacct(body).Rejected);

        Assert.Contains($"End '{end}'", rejection.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_states_and_bad_gpu_counts_are_rejected()
    {
        var body = Header + """

            1|x|p|acct|8|EXPLODED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=1
            2|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=four
            3|x|p||8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=1
            """;

        var result = Sacct(body);

        Assert.Equal([2, 3, 4], result.Rejected.Select(r => r.LineNumber));
        Assert.Contains("unknown State 'EXPLODED'", result.Rejected[0].Reason, StringComparison.Ordinal);
        Assert.Contains("gres/gpu=four", result.Rejected[1].Reason, StringComparison.Ordinal);
        Assert.Contains("Account is empty", result.Rejected[2].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_repeated_finished_job_is_charged_once_from_its_later_line()
    {
        var body = Header + """

            1|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=1
            2|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=1
            1|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T12:00:00|7200|gres/gpu=1
            """;

        var result = Sacct(body);

        Assert.Equal(["1", "2"], result.Chargeable.Select(r => r.JobId));
        Assert.Equal(7200, Job(result, "1").ElapsedSeconds);
        Assert.Equal(new DuplicateJob(2, "1", 4), Assert.Single(result.Duplicates));
    }

    [Fact]
    public void Local_cluster_times_are_converted_to_utc_in_the_given_time_zone()
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var body = Header + """

            1|x|p|acct|8|COMPLETED|0:0|u|2026-01-15T10:00:00|2026-07-15T10:00:00|3600|gres/gpu=1
            2|x|p|acct|8|COMPLETED|0:0|u|2026-03-29T02:30:00|2026-03-29T04:00:00|3600|gres/gpu=1
            3|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00Z|2026-03-01T11:00:00-05:00|3600|gres/gpu=1
            """;

        var result = Sacct(body, new UsageParseOptions { ClusterTimeZone = berlin });

        var winterSummer = Job(result, "1");
        Assert.Equal(new DateTimeOffset(2026, 1, 15, 9, 0, 0, TimeSpan.Zero), winterSummer.Start);
        Assert.Equal(new DateTimeOffset(2026, 7, 15, 8, 0, 0, TimeSpan.Zero), winterSummer.End);
        Assert.Equal(TimeSpan.Zero, winterSummer.End!.Value.Offset);
        // 02:30 on 29 March 2026 is skipped by Berlin's spring-forward.
        Assert.Contains("does not exist in time zone", Assert.Single(result.Rejected).Reason, StringComparison.Ordinal);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 16, 0, 0, TimeSpan.Zero), Job(result, "3").End);
    }

    [Fact]
    public void Times_default_to_utc()
    {
        var job = Job(Sacct(RealisticBody), "4711");

        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero), job.Start);
    }

    [Fact]
    public void Lines_split_across_read_blocks_are_read_whole()
    {
        var body = new StringBuilder(Header).Append('\n');
        for (var i = 0; i < 5000; i++)
        {
            body.Append(i).Append("|job|h100|proj-").Append(i % 7).Append("|8|COMPLETED|0:0|user").Append(i % 13)
                .Append("|2026-03-01T10:00:00|2026-03-01T12:00:00|").Append(i).Append("|billing=8,cpu=8,gres/gpu:h100=2,gres/gpu=2,mem=64G,node=1\r\n");
        }

        var result = SacctParser.Parse(new TrickleReader(body.ToString(), 7), UsageBodyFormat.SacctParsable2);

        Assert.Empty(result.Rejected);
        Assert.Equal(5000, result.Chargeable.Count);
        Assert.Equal(Enumerable.Range(0, 5000).Sum(i => i * 2L), result.Chargeable.Sum(r => r.GpuSeconds));
        Assert.Equal("proj-1", result.Chargeable[4999].Account); // 4999 % 7 == 1
    }

    [Fact]
    public void An_overlong_line_is_rejected_without_losing_the_lines_after_it()
    {
        var body = Header + "\n" + new string('x', 1_100_000) + "\n2|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=1\n";

        var result = Sacct(body);

        var rejection = Assert.Single(result.Rejected);
        Assert.Equal(2, rejection.LineNumber);
        Assert.Contains("longer than", rejection.Reason, StringComparison.Ordinal);
        Assert.Equal(3, Job(result, "2").LineNumber);
    }

    [Fact]
    public void A_line_longer_than_the_read_block_is_read_whole()
    {
        var body = "Comment|" + Header + "\n" + new string('c', 200_000) + "|2|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=2\n";

        var result = Sacct(body);

        Assert.Empty(result.Rejected);
        Assert.Equal(2, Job(result, "2").GpuCount);
    }

    [Fact]
    public void Output_of_sacct_parsable_with_trailing_pipes_is_read_too()
    {
        var body = Header + "|\n2|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=2|\n";

        var result = Sacct(body);

        Assert.Empty(result.Rejected);
        Assert.Equal(2, Job(result, "2").GpuCount);
    }

    [Fact]
    public void Rejections_are_listed_up_to_the_limit_and_all_counted()
    {
        var body = new StringBuilder(Header).Append('\n');
        for (var i = 0; i < 50; i++)
        {
            body.Append("garbage\n");
        }

        var result = Sacct(body.ToString(), new UsageParseOptions { MaxRejectionsListed = 10 });

        Assert.Equal(10, result.Rejected.Count);
        Assert.Equal(50, result.RejectedCount);
    }

    [Fact]
    public async Task Stream_and_async_reading_give_the_same_records()
    {
        var expected = Sacct(RealisticBody);
        using var stream = new MemoryStream(Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(RealisticBody)).ToArray());

        var fromStream = await SacctParser.ParseAsync(stream, UsageBodyFormat.SacctParsable2);

        Assert.Equal(expected.Chargeable, fromStream.Chargeable);
        Assert.Equal(expected.Pending, fromStream.Pending);
        Assert.Equal(expected.SkippedSteps, fromStream.SkippedSteps);
    }

    [Fact]
    public void Json_lines_are_read_with_the_sacct_field_names()
    {
        var body = """
            {"JobID":"4711","Account":"proj-llm","User":"alice","Start":"2026-03-01T10:00:00","End":"2026-03-01T12:00:00","ElapsedRaw":7200,"AllocTRES":"billing=64,cpu=64,gres/gpu:h100=8,gres/gpu=8,mem=512G,node=1","State":"COMPLETED","Partition":"h100"}
            {"JobID":"4711.batch","Account":"proj-llm","User":"","Start":"2026-03-01T10:00:00","End":"2026-03-01T12:00:00","ElapsedRaw":7200,"AllocTRES":"gres/gpu=8","State":"COMPLETED"}
            {"State":"RUNNING","JobID":4960,"Account":"proj-llm","User":"alice","Start":"2026-03-01T16:00:00","End":"Unknown","ElapsedRaw":"900","AllocTRES":"gres/gpu=2","extra":{"nested":[1,2]}}
            {"JobID":"4950","Account":"proj-\u0072l","User":"bob","Start":"2026-03-01T15:00:00","End":"2026-03-01T15:30:00","ElapsedRaw":1800,"AllocTRES":"gres/gpu=4","State":"CANCELLED by 1002"}
            """;

        var result = SacctParser.Parse(new StringReader(body), UsageBodyFormat.JsonLines);

        Assert.Empty(result.Rejected);
        Assert.Equal(16m, Job(result, "4711").GpuHours);
        Assert.Equal("proj-rl", Job(result, "4950").Account);
        Assert.Equal("4960", Assert.Single(result.Pending).JobId);
        Assert.Equal(1, result.SkippedSteps);
    }

    [Fact]
    public void An_invalid_json_line_is_rejected_with_its_line_number_while_good_lines_are_taken()
    {
        var body = """
            {"JobID":"1","Account":"a","User":"u","Start":"2026-03-01T10:00:00","End":"2026-03-01T11:00:00","ElapsedRaw":3600,"AllocTRES":"gres/gpu=1","State":"COMPLETED"}
            {"JobID":"2","Account":"a","User":"u","Start":"2026-03-01T10:00:00","End":"2026-03-01T11:00:00","ElapsedRaw":3600,"AllocTRES":"gres/gpu=1","State":"COMPLETED"
            {"JobID":"3","Account":"a","User":"u","Start":"2026-03-01T10:00:00","End":"2026-03-01T11:00:00","ElapsedRaw":3600,"AllocTRES":"gres/gpu=1"}

            [1,2,3]
            {"JobID":"4","Account":"a","User":"u","Start":"2026-03-01T10:00:00","End":"2026-03-01T11:00:00","ElapsedRaw":true,"AllocTRES":"gres/gpu=1","State":"COMPLETED"}
            {"JobID":"5","Account":"a","User":"u","Start":"2026-03-01T10:00:00","End":"2026-03-01T11:00:00","ElapsedRaw":3600,"AllocTRES":"gres/gpu=1","State":"COMPLETED"}
            """;

        var result = SacctParser.Parse(new StringReader(body), UsageBodyFormat.JsonLines);

        Assert.Equal(["1", "5"], result.Chargeable.Select(r => r.JobId));
        Assert.Equal([2, 3, 5, 6], result.Rejected.Select(r => r.LineNumber));
        Assert.Contains("invalid JSON", result.Rejected[0].Reason, StringComparison.Ordinal);
        Assert.Contains("missing field(s) State", result.Rejected[1].Reason, StringComparison.Ordinal);
        Assert.Contains("JSON object", result.Rejected[2].Reason, StringComparison.Ordinal);
        Assert.Contains("ElapsedRaw must be a string or a number", result.Rejected[3].Reason, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- plausibility: nothing is charged that cannot have run

    private static readonly DateTimeOffset Now = new(2026, 3, 2, 12, 0, 0, TimeSpan.Zero);

    private static readonly UsageParseOptions Checked = new() { Now = Now, ClusterGpus = 64 };

    [Fact]
    public void A_year_of_elapsed_time_on_8_gpus_within_one_second_of_start_and_end_is_rejected_and_the_rest_taken()
    {
        // The job: 70,080 GPU-hours claimed for a job that ran one second.
        var body = Header + """

            1|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T10:00:01|31536000|gres/gpu=8
            2|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=8
            """;

        var result = Sacct(body, Checked);

        var rejection = Assert.Single(result.Rejected);
        Assert.Equal(2, rejection.LineNumber);
        Assert.Equal("job 1: ElapsedRaw 31536000 s is longer than End − Start (1 s); nothing was charged for it", rejection.Reason);
        Assert.Equal("2", Assert.Single(result.Chargeable).JobId);
    }

    [Fact]
    public void Elapsed_time_may_exceed_end_minus_start_by_the_slack_only()
    {
        var body = Header + """

            1|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3660|gres/gpu=1
            2|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3661|gres/gpu=1
            3|x|p|acct|8|CANCELLED by 0|0:0|u|None|2026-03-01T11:00:00|0|
            4|x|p|acct|8|CANCELLED by 0|0:0|u|None|2026-03-01T11:00:00|61|gres/gpu=1
            """;

        var result = Sacct(body, Checked);

        Assert.Equal(["1", "3"], result.Chargeable.Select(r => r.JobId));
        Assert.Equal([3, 5], result.Rejected.Select(r => r.LineNumber));
        Assert.Contains("ElapsedRaw 3661 s is longer than End − Start (3600 s)", result.Rejected[0].Reason, StringComparison.Ordinal);
        Assert.Contains("ElapsedRaw 61 s for a job without a Start", result.Rejected[1].Reason, StringComparison.Ordinal);
        Assert.Equal(4, Sacct(body, Checked with { ElapsedSlack = TimeSpan.FromSeconds(61) }).Chargeable.Count);
    }

    [Fact]
    public void An_end_before_the_start_is_rejected()
    {
        var body = Header + "\n1|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T11:00:00|2026-03-01T10:00:00|0|gres/gpu=1\n";

        var result = Sacct(body, Checked);

        Assert.Empty(result.Chargeable);
        Assert.Equal("job 1: End 2026-03-01T10:00:00Z is before Start 2026-03-01T11:00:00Z; nothing was charged for it", Assert.Single(result.Rejected).Reason);
    }

    [Fact]
    public void A_submit_time_after_the_end_is_rejected()
    {
        var body = AgentHeader + "\n1|acct|u|2026-03-01T11:00:01|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=1|COMPLETED|h100\n";

        Assert.Equal("job 1: Submit 2026-03-01T11:00:01Z is after End 2026-03-01T11:00:00Z; nothing was charged for it", Assert.Single(Sacct(body, Checked).Rejected).Reason);
    }

    [Theory]
    [InlineData("1969-12-31T23:59:59")]
    [InlineData("0001-01-01T00:00:00+14:00")]
    [InlineData("9999-12-31T23:59:59-14:00")]
    public void Times_no_cluster_can_report_are_rejected_instead_of_overflowing(string time)
    {
        var body = Header + $"\n1|x|p|acct|8|COMPLETED|0:0|u|{time}|2026-03-01T11:00:00|3600|gres/gpu=1\n";

        Assert.Contains($"Start '{time}' is not a time a cluster can report", Assert.Single(Sacct(body).Rejected).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_end_beyond_the_clock_skew_is_rejected_and_one_within_it_taken()
    {
        var body = Header + """

            1|x|p|acct|8|COMPLETED|0:0|u|2026-03-02T11:00:00|2026-03-02T12:05:00|3600|gres/gpu=1
            2|x|p|acct|8|COMPLETED|0:0|u|2026-03-02T11:00:00|2026-03-02T12:05:01|3600|gres/gpu=1
            3|x|p|acct|8|COMPLETED|0:0|u|2099-01-01T00:00:00|2099-01-01T01:00:00|3600|gres/gpu=1
            4|x|p|acct|8|RUNNING|0:0|u|2026-03-02T11:00:00|Unknown|3600|gres/gpu=1
            """;

        var result = Sacct(body, Checked);

        Assert.Equal("1", Assert.Single(result.Chargeable).JobId);
        Assert.Equal("4", Assert.Single(result.Pending).JobId);
        Assert.Equal([3, 4], result.Rejected.Select(r => r.LineNumber));
        Assert.Contains("End 2099-01-01T01:00:00Z is in the future (the portal's clock reads 2026-03-02T12:00:00Z; at most 5 minutes ahead",
            result.Rejected[1].Reason, StringComparison.Ordinal);
        // Without a clock (a parser run outside a request) there is nothing to compare with.
        Assert.Equal(3, Sacct(body).Chargeable.Count);
    }

    [Fact]
    public void More_gpus_than_the_cluster_has_are_rejected()
    {
        var body = Header + """

            1|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=64
            2|x|p|acct|8|COMPLETED|0:0|u|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu:h100=40,gres/gpu:a100=40
            """;

        var result = Sacct(body, Checked);

        Assert.Equal("1", Assert.Single(result.Chargeable).JobId);
        Assert.Equal("job 2: 80 GPUs, more than the cluster's 64; nothing was charged for it", Assert.Single(result.Rejected).Reason);
        Assert.Equal(2, Sacct(body, Checked with { ClusterGpus = null }).Chargeable.Count);
    }

    // ---------------------------------------------------------------- job ids that come back: id and submit time

    private const string AgentHeader = "JobID|Account|User|Submit|Start|End|ElapsedRaw|AllocTRES|State|Partition";

    [Fact]
    public void The_submit_time_names_the_job_with_its_id_and_a_step_carries_no_weight()
    {
        var body = AgentHeader + """

            100|acct|u|2026-03-01T09:00:00|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=1|COMPLETED|h100
            100.batch|acct||2026-03-01T10:00:00|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=1|COMPLETED|
            100|acct|u|2026-03-02T09:00:00|2026-03-02T10:00:00|2026-03-02T10:30:00|1800|gres/gpu=2|COMPLETED|h100
            100|acct|u|2026-03-02T09:00:00|2026-03-02T10:00:00|2026-03-02T11:00:00|3600|gres/gpu=2|COMPLETED|h100
            100|acct|u|2026-03-01T09:00:00|2026-03-01T10:00:00|2026-03-01T10:30:00|1800|gres/gpu=1|COMPLETED|h100
            """;

        var result = Sacct(body, Checked);

        Assert.Empty(result.Rejected);
        Assert.Equal(1, result.SkippedSteps);
        // The same id with another submit time is another job; the same id and submit time again is the same job, its later line wins.
        Assert.Equal([(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero), 0.5m), (new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero), 2m)],
            result.Chargeable.Select(r => (r.Submit!.Value, r.GpuHours)));
        Assert.Equal([new DuplicateJob(4, "100", 5), new DuplicateJob(2, "100", 6)], result.Duplicates);
    }

    [Fact]
    public void A_body_without_a_submit_column_names_jobs_by_id_alone()
    {
        var result = Sacct(RealisticBody);

        Assert.All(result.Chargeable, r => Assert.Null(r.Submit));
        Assert.Equal(new JobKey("4711", null), Job(result, "4711").Key);
    }

    [Fact]
    public void A_submit_time_is_read_in_the_clusters_time_zone_and_a_bad_one_is_rejected()
    {
        var body = AgentHeader + """

            1|acct|u|2026-07-01T09:00:00|2026-07-01T10:00:00|2026-07-01T11:00:00|3600|gres/gpu=1|COMPLETED|h100
            2|acct|u|yesterday|2026-07-01T10:00:00|2026-07-01T11:00:00|3600|gres/gpu=1|COMPLETED|h100
            3|acct|u|Unknown|2026-07-01T10:00:00|2026-07-01T11:00:00|3600|gres/gpu=1|COMPLETED|h100
            """;

        var result = Sacct(body, new UsageParseOptions { ClusterTimeZone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin") });

        Assert.Equal(new DateTimeOffset(2026, 7, 1, 7, 0, 0, TimeSpan.Zero), Job(result, "1").Submit);
        Assert.Contains("job 2: Submit 'yesterday'", Assert.Single(result.Rejected).Reason, StringComparison.Ordinal);
        Assert.Null(Job(result, "3").Submit);
    }

    [Fact]
    public void Json_lines_may_carry_the_submit_time()
    {
        var body = """
            {"JobID":"1","Submit":"2026-03-01T09:00:00","Account":"a","User":"u","Start":"2026-03-01T10:00:00","End":"2026-03-01T11:00:00","ElapsedRaw":3600,"AllocTRES":"gres/gpu=1","State":"COMPLETED"}
            {"JobID":"2","Account":"a","User":"u","Start":"2026-03-01T10:00:00","End":"2026-03-01T11:00:00","ElapsedRaw":3600,"AllocTRES":"gres/gpu=1","State":"COMPLETED"}
            """;

        var result = SacctParser.Parse(new StringReader(body), UsageBodyFormat.JsonLines);

        Assert.Equal([new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero), null], result.Chargeable.Select(r => r.Submit));
    }

    // ---------------------------------------------------------------- encoding: UTF-8 only, strictly

    [Fact]
    public async Task Invalid_utf8_is_refused_as_a_whole_instead_of_read_with_replacement_characters()
    {
        var bytes = Encoding.UTF8.GetBytes(RealisticBody.Replace("alice", "alïce", StringComparison.Ordinal)).ToList();
        var broken = bytes.ToArray();
        broken[Array.IndexOf(broken, (byte)0xC3)] = 0xFF;

        using var valid = new MemoryStream(bytes.ToArray());
        Assert.Equal("alïce", Job(await SacctParser.ParseAsync(valid, UsageBodyFormat.SacctParsable2), "4711").User);
        using var invalid = new MemoryStream(broken);
        await Assert.ThrowsAsync<DecoderFallbackException>(() => SacctParser.ParseAsync(invalid, UsageBodyFormat.SacctParsable2));
        Assert.Throws<DecoderFallbackException>(() => SacctParser.Parse(new MemoryStream(broken), UsageBodyFormat.SacctParsable2));
    }

    [Fact]
    public void A_utf16_body_is_refused_rather_than_detected_by_its_byte_order_mark()
    {
        var utf16 = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(RealisticBody)).ToArray();

        Assert.Throws<DecoderFallbackException>(() => SacctParser.Parse(new MemoryStream(utf16), UsageBodyFormat.SacctParsable2));
    }

    /// <summary>Hands out a few characters per read, so lines straddle every block boundary.</summary>
    private sealed class TrickleReader(string text, int chunk) : TextReader
    {
        private int _position;

        public override int Read(Span<char> buffer)
        {
            var count = Math.Min(Math.Min(chunk, buffer.Length), text.Length - _position);
            text.AsSpan(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }
    }

    [Fact]
    public void The_partition_and_the_allocated_tres_are_kept_with_each_job_and_shared_between_jobs_of_one_shape()
    {
        var result = Sacct(RealisticBody);

        var first = Job(result, "4800_1");
        var second = Job(result, "4800_2");
        Assert.Equal("h100", first.Partition);
        Assert.Equal("billing=8,cpu=8,gres/gpu:h100=1,gres/gpu=1,mem=64G,node=1", first.Tres);
        // Interned: the charge policy prices each shape once per batch, comparing references.
        Assert.Same(first.Tres, second.Tres);
        Assert.Same(first.Partition, second.Partition);
        Assert.Equal("cpu", Job(result, "4900+1").Partition);
    }

    [Fact]
    public void A_body_without_a_partition_column_reads_every_partition_as_empty()
    {
        var body = """
            JobID|Account|User|Start|End|ElapsedRaw|AllocTRES|State
            1|acct|alice|2026-03-01T10:00:00|2026-03-01T11:00:00|3600|gres/gpu=1|COMPLETED
            """;

        Assert.Equal("", Job(Sacct(body), "1").Partition);
    }
}

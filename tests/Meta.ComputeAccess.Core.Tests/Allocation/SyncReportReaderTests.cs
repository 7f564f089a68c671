using System.Text;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Clusters;

namespace Meta.ComputeAccess.Core.Tests.Allocation;

public sealed class SyncReportReaderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    /// <summary>The example of deploy/cluster/README.md, "POST /api/v1/clusters/{cluster}/sync-reports", as mca-sync 1.0.0 sends it.</summary>
    private const string ReadmeExample = """
        { "agentVersion": "1.0.0", "planEtag": "\"4200527bc1f4ccc9\"", "startedAt": "2026-11-28T10:00:00Z",
          "finishedAt": "2026-11-28T10:00:09Z", "dryRun": false,
          "accounts": [ { "account": "lowres-speech", "allocationId": "0b6d2f9e-…", "outcome": "applied", "inSlurm": true,
                          "limitApplied": 600000, "usageResetEpoch": "0b6d2f9e-…", "membersAdded": ["lschmidt"],
                          "membersRemoved": ["tnguyen"], "membersInSlurm": ["aokafor", "lschmidt"],
                          "usageInSlurmTresMinutes": 0, "error": null },
                        { "account": "protein-fold", "allocationId": "…", "outcome": "failed", "inSlurm": false,
                          "limitApplied": null, "usageResetEpoch": null, "membersAdded": [], "membersRemoved": [],
                          "membersInSlurm": [], "usageInSlurmTresMinutes": null,
                          "error": "account not in Slurm (create_accounts=no: a Slurm admin creates it)" } ] }
        """;

    private static SyncReportRead Read(string json) => SyncReportReader.Read(Encoding.UTF8.GetBytes(json), Now);

    [Fact]
    public void The_contracts_example_report_is_read_field_by_field()
    {
        var read = Read(ReadmeExample);

        Assert.Empty(read.Problems);
        var report = read.Report!;
        Assert.Equal(("1.0.0", "\"4200527bc1f4ccc9\"", false), (report.AgentVersion, report.PlanETag, report.DryRun));
        Assert.Equal(TimeSpan.FromSeconds(9), report.FinishedAt - report.StartedAt);
        var applied = report.Accounts[0];
        Assert.Equal((SyncOutcome.Applied, true, 600000L, 0L), (applied.Outcome, applied.InSlurm, applied.LimitApplied, applied.UsageInSlurmMinutes));
        Assert.Equal(["lschmidt"], applied.MembersAdded);
        Assert.Equal(["tnguyen"], applied.MembersRemoved);
        Assert.Equal(["aokafor", "lschmidt"], applied.MembersInSlurm);
        var failed = report.Accounts[1];
        Assert.Equal((SyncOutcome.Failed, false, (long?)null), (failed.Outcome, failed.InSlurm, failed.LimitApplied));
        Assert.StartsWith("account not in Slurm", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_plan_is_a_report_with_an_error_and_no_accounts_and_unknown_fields_are_ignored()
    {
        var read = Read("""
            { "agentVersion": "1.1.0", "planEtag": null, "startedAt": "2026-11-28T10:00:00+01:00", "finishedAt": "2026-11-28T09:00:05Z",
              "dryRun": true, "error": "plan refused: plan limits 'cpu', configured tres is 'gres/gpu'", "accounts": [], "newerField": { "x": 1 } }
            """);

        Assert.Empty(read.Problems);
        Assert.Equal((TimeSpan.Zero, 9), (read.Report!.StartedAt.Offset, read.Report.StartedAt.Hour));
        Assert.Empty(read.Report.Accounts);
        Assert.StartsWith("plan refused", read.Report.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_named_by_its_field_and_nothing_is_returned()
    {
        var read = Read("""
            { "startedAt": "yesterday", "finishedAt": "2026-11-28T10:00:09Z", "dryRun": "no",
              "accounts": [ { "account": 7, "outcome": "applied", "inSlurm": true },
                            { "account": "ok", "outcome": "maybe", "inSlurm": null, "limitApplied": -5, "membersInSlurm": ["a", ""] },
                            "not an object" ] }
            """);

        Assert.Null(read.Report);
        Assert.Equal(
        [
            "startedAt: required, a time with its offset such as \"2026-11-28T10:00:00Z\".",
            "dryRun: required, true or false.",
            "accounts[0].account: must be a string or null.",
            "accounts[1].outcome: required, one of \"applied\", \"failed\", \"skipped\".",
            "accounts[1].inSlurm: required, true or false.",
            "accounts[1].limitApplied: a whole number from 0 to 10^15, or null.",
            "accounts[1].membersInSlurm[1]: must be a non-empty string.",
            "accounts[2]: must be an object.",
        ], read.Problems);
    }

    [Fact]
    public void At_most_a_hundred_problems_are_listed_and_the_rest_counted()
    {
        var entries = string.Join(',', Enumerable.Repeat("""{ "outcome": "x", "inSlurm": true }""", 150));
        var read = Read($$"""{ "startedAt": "2026-11-28T10:00:00Z", "finishedAt": "2026-11-28T10:00:09Z", "dryRun": false, "accounts": [{{entries}}] }""");

        Assert.Equal(SyncReportReader.MaxProblems + 1, read.Problems.Count);
        Assert.Equal("… and 50 more.", read.Problems[^1]);
    }

    [Theory]
    [InlineData("jdoe", true)]
    [InlineData("_svc.batch-1", true)]
    [InlineData("a2345678901234567890123456789012", true)]
    [InlineData("a23456789012345678901234567890123", false)]
    [InlineData("JDoe", false)]
    [InlineData("1user", false)]
    [InlineData("j doe", false)]
    [InlineData("$(touch x)", false)]
    [InlineData("", false)]
    public void A_login_is_what_a_clusters_agent_accepts(string login, bool valid) =>
        Assert.Equal(valid, ClusterLogin.IsValid(login));
}

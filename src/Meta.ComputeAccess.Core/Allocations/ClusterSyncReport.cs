namespace Meta.ComputeAccess.Allocations;

/// <summary>What a cluster's agent did with one account of the plan.</summary>
public enum SyncOutcome
{
    /// <summary>Slurm matches the plan for the account (whether or not something had to change).</summary>
    Applied,

    /// <summary>Something could not be applied (see the error); the agent tries again on its next run.</summary>
    Failed,

    /// <summary>Nothing to do by design (an ended allocation whose account Slurm does not have).</summary>
    Skipped,
}

/// <summary>
/// One run of a cluster's agent as it reported it (<c>POST /api/v1/clusters/{cluster}/sync-reports</c>). Append-only:
/// the database refuses UPDATE and DELETE; the same body sent twice is stored once (<see cref="BodySha256"/>).
/// </summary>
public sealed class ClusterSyncReport
{
    private readonly List<ClusterSyncOutcome> outcomes = [];

    public long Id { get; private set; }

    public Guid ClusterId { get; private set; }

    public DateTimeOffset ReceivedAt { get; private set; }

    public string? AgentVersion { get; private set; }

    /// <summary>The tag of the plan the agent applied (null when it had none).</summary>
    public string? PlanETag { get; private set; }

    public DateTimeOffset StartedAt { get; private set; }

    public DateTimeOffset FinishedAt { get; private set; }

    /// <summary>Nothing was changed on the cluster: the outcomes say what would have been done.</summary>
    public bool DryRun { get; private set; }

    /// <summary>The whole plan was refused or Slurm could not be read (then there are no outcomes).</summary>
    public string? Error { get; private set; }

    public int AccountCount { get; private set; }

    public int FailedCount { get; private set; }

    public byte[] BodySha256 { get; private set; } = [];

    public IReadOnlyList<ClusterSyncOutcome> Outcomes => outcomes;

    private ClusterSyncReport()
    {
    }

    internal ClusterSyncReport(Guid clusterId, SyncReport report, byte[] bodySha256, IReadOnlyDictionary<Guid, Guid> allocationIds, DateTimeOffset now)
    {
        ClusterId = clusterId;
        ReceivedAt = now;
        AgentVersion = report.AgentVersion;
        PlanETag = report.PlanETag;
        StartedAt = report.StartedAt;
        FinishedAt = report.FinishedAt;
        DryRun = report.DryRun;
        Error = report.Error;
        AccountCount = report.Accounts.Count;
        FailedCount = report.Accounts.Count(a => a.Outcome == SyncOutcome.Failed);
        BodySha256 = bodySha256;
        foreach (var account in report.Accounts)
        {
            var allocationId = Guid.TryParse(account.AllocationId, out var id) && allocationIds.TryGetValue(id, out var known) ? known : (Guid?)null;
            outcomes.Add(new ClusterSyncOutcome(clusterId, account, allocationId));
        }
    }
}

/// <summary>One account's outcome in a sync report (append-only). What Slurm holds is read back by the agent, never copied from the plan.</summary>
public sealed class ClusterSyncOutcome
{
    public long Id { get; private set; }

    public long ReportId { get; private set; }

    public Guid ClusterId { get; private set; }

    /// <summary>The account as the agent reported it (an invalid entry's name is escaped and cut by the agent; empty when it had none).</summary>
    public string Account { get; private set; } = "";

    /// <summary>The allocation the report names, when it is one of this cluster's.</summary>
    public Guid? AllocationId { get; private set; }

    public SyncOutcome Outcome { get; private set; }

    public bool InSlurm { get; private set; }

    /// <summary>The account's GPU-minute limit in Slurm after the run (null: no limit).</summary>
    public long? LimitApplied { get; private set; }

    public string? UsageResetEpoch { get; private set; }

    public string[] MembersAdded { get; private set; } = [];

    public string[] MembersRemoved { get; private set; } = [];

    public string[] MembersInSlurm { get; private set; } = [];

    /// <summary>The GPU-minutes Slurm counts against the limit (sshare's GrpTRESRaw).</summary>
    public long? UsageInSlurmMinutes { get; private set; }

    public string? Error { get; private set; }

    private ClusterSyncOutcome()
    {
    }

    internal ClusterSyncOutcome(Guid clusterId, SyncReportAccount account, Guid? allocationId)
    {
        ClusterId = clusterId;
        Account = account.Account ?? "";
        AllocationId = allocationId;
        Outcome = account.Outcome;
        InSlurm = account.InSlurm;
        LimitApplied = account.LimitApplied;
        UsageResetEpoch = account.UsageResetEpoch;
        MembersAdded = [.. account.MembersAdded];
        MembersRemoved = [.. account.MembersRemoved];
        MembersInSlurm = [.. account.MembersInSlurm];
        UsageInSlurmMinutes = account.UsageInSlurmMinutes;
        Error = account.Error;
    }
}

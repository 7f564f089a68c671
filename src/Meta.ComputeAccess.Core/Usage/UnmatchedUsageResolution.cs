using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

namespace Meta.ComputeAccess.Usage;

/// <summary>Which open unmatched usage an admin resolves: one job, or every open job of one Slurm account on one cluster.</summary>
public sealed record UnmatchedSelection
{
    private UnmatchedSelection()
    {
    }

    public long? Id { get; private init; }

    public Guid? ClusterId { get; private init; }

    public string? Account { get; private init; }

    public static UnmatchedSelection One(long id) => new() { Id = id };

    public static UnmatchedSelection AllOf(Guid clusterId, string account) => new() { ClusterId = clusterId, Account = account };
}

/// <summary>
/// The one way unmatched usage is resolved, for one job or a whole account at once: assigned (charged to an
/// allocation, as the ingest would have charged it: <see cref="UsageCharges"/>) or dismissed with a reason. One
/// set-based statement picks the open rows and links their usage records, so tens of thousands of jobs cost no more
/// round trips than one; a row a concurrent admin resolved first is no longer open and is not charged twice.
/// </summary>
public sealed class UnmatchedUsageResolution(PortalDbContext db, AllocationService allocations, AuditLog audit, TimeProvider clock)
{
    /// <summary>Charges the selected jobs to the open allocation whose Slurm account is <paramref name="slurmAccount"/>; returns how many.</summary>
    public async Task<int> AssignAsync(UnmatchedSelection selection, string slurmAccount, Guid actor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var account = (slurmAccount ?? "").Trim();
        // A renewal reuses its account, so an account may have several allocations: the running one is charged, else a
        // pending one, else the latest (which then refuses as closed). Open allocations of one account never overlap.
        var allocationId = await db.Allocations.Where(a => a.SlurmAccount == account)
            .OrderByDescending(a => Allocation.ChargeableStates.Contains(a.State))
            .ThenByDescending(a => Allocation.OpenStates.Contains(a.State))
            .ThenByDescending(a => a.StartDate)
            .Select(a => (Guid?)a.Id).FirstOrDefaultAsync(cancellationToken)
            ?? throw new DomainException("No allocation has that Slurm account.");
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        // The allocation is locked before the usage rows, always in this order, so two resolutions cannot deadlock;
        // the hours of a closed or expired allocation no longer change.
        var allocation = await allocations.LockAsync(allocationId, cancellationToken);
        allocation.RequireOpen();
        var now = clock.GetUtcNow();
        var jobs = await ResolveAsync(selection, UnmatchedUsageStatus.Assigned, allocation.Id, actor, now, $"Charged to {allocation.SlurmAccount}", cancellationToken);
        var (clusterId, jobsAccount) = (jobs[0].ClusterId, jobs[0].Account);
        allocation.QuotaOn(clusterId);
        var charges = new UsageCharges(assignedFromAccount: jobsAccount);
        foreach (var job in jobs)
        {
            charges.Add(allocation.Id, job.JobId, job.SubmittedAt, job.ChargedHours, job.EndedAt, job.PolicyId, job.User, job.GpuHours);
        }
        await charges.WriteAsync(Connection, clusterId, now, actor, cancellationToken);
        audit.Record(actor, "usage.assigned", "allocation", allocation.Id.ToString(), jobs.Count == 1
            ? $"Job {jobs[0].JobId} ({jobs[0].GpuHours.AsHours()} GPU-h, account {jobsAccount}) charged to {allocation.SlurmAccount}"
            : $"{jobs.Count} unmatched jobs ({jobs.Sum(j => j.GpuHours).AsHours()} GPU-h) of account {jobsAccount} charged to {allocation.SlurmAccount}");
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return jobs.Count;
    }

    /// <summary>Dismisses the selected jobs with one reason, kept with each; returns how many.</summary>
    public async Task<int> DismissAsync(UnmatchedSelection selection, string reason, Guid actor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var why = UnmatchedUsage.CheckReason(reason);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var jobs = await ResolveAsync(selection, UnmatchedUsageStatus.Dismissed, null, actor, clock.GetUtcNow(), why, cancellationToken);
        var jobsAccount = jobs[0].Account;
        if (selection.Id is { } id)
        {
            audit.Record(actor, "usage.dismissed", "unmatched-usage", id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"Unmatched usage of account {jobsAccount} ({jobs[0].GpuHours.AsHours()} GPU-h) dismissed: {why}");
        }
        else
        {
            audit.Record(actor, "usage.dismissed", "cluster", jobs[0].ClusterId.ToString(), $"{jobs.Count} unmatched jobs of account {jobsAccount} dismissed: {why}");
        }
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return jobs.Count;
    }

    /// <param name="ChargedHours">The price the ingest worked out by the charge policy in force at the job's end (its GPU-hours for jobs recorded before rates).</param>
    private sealed record PickedJob(Guid ClusterId, string JobId, DateTimeOffset? SubmittedAt, string Account, decimal GpuHours, DateTimeOffset EndedAt, decimal ChargedHours, Guid? PolicyId, string User);

    private NpgsqlConnection Connection => (NpgsqlConnection)db.Database.GetDbConnection();

    /// <summary>
    /// Marks the selected open rows resolved and links their usage records to the allocation (if any); refuses when none is
    /// open. Each row finds its record by the record's whole key, end included, so the lookup reads one partition.
    /// </summary>
    private async Task<IReadOnlyList<PickedJob>> ResolveAsync(
        UnmatchedSelection selection, UnmatchedUsageStatus status, Guid? allocationId, Guid actor, DateTimeOffset now, string note, CancellationToken cancellationToken)
    {
        var filter = selection.Id is null ? "cluster_id = @cluster AND account = @account" : "id = @id";
        await using var command = new NpgsqlCommand($"""
            WITH picked AS (
                UPDATE unmatched_usage
                SET status = @status, allocation_id = @allocation, resolved_by = @actor, resolved_at = @now, resolution = @note
                WHERE status = @open AND {filter}
                RETURNING cluster_id, job_id, submitted_at, ended_at, account),
            linked AS (
                UPDATE usage_records u SET allocation_id = @allocation
                FROM picked p
                WHERE @allocation IS NOT NULL AND u.cluster_id = p.cluster_id AND u.job_id = p.job_id AND u.submitted_at IS NOT DISTINCT FROM p.submitted_at AND u.ended_at = p.ended_at)
            SELECT p.cluster_id, p.job_id, p.submitted_at, p.account, r.gpu_hours, r.ended_at, coalesce(r.charged_hours, r.gpu_hours), r.charge_policy_id, r.user_name
            FROM picked p JOIN usage_records r ON r.cluster_id = p.cluster_id AND r.job_id = p.job_id AND r.submitted_at IS NOT DISTINCT FROM p.submitted_at AND r.ended_at = p.ended_at
            """, Connection);
        command.Parameters.AddWithValue("status", status.ToString());
        command.Parameters.AddWithValue("open", nameof(UnmatchedUsageStatus.Open));
        command.Parameters.Add(new NpgsqlParameter("allocation", NpgsqlDbType.Uuid) { Value = allocationId is { } a ? a : DBNull.Value });
        command.Parameters.AddWithValue("actor", actor);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("note", note.Length > UnmatchedUsage.MaxResolutionLength ? note[..UnmatchedUsage.MaxResolutionLength] : note);
        if (selection.Id is { } one)
        {
            command.Parameters.AddWithValue("id", one);
        }
        else
        {
            command.Parameters.AddWithValue("cluster", selection.ClusterId!.Value);
            command.Parameters.AddWithValue("account", selection.Account!);
        }
        var jobs = new List<PickedJob>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                jobs.Add(new PickedJob(reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
                    reader.GetString(3), reader.GetDecimal(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetDecimal(6), reader.IsDBNull(7) ? null : reader.GetGuid(7), reader.GetString(8)));
            }
        }
        if (jobs.Count > 0)
        {
            return jobs;
        }
        throw new DomainException(selection.Id is { } id
            ? UnmatchedUsage.NothingOpen(await db.UnmatchedUsage.Where(u => u.Id == id).Select(u => (UnmatchedUsageStatus?)u.Status).SingleOrDefaultAsync(cancellationToken))
            : $"Account {selection.Account} has no open unmatched usage on this cluster.");
    }
}

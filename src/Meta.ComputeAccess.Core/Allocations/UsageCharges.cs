using System.Globalization;
using Npgsql;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// How finished jobs are charged to allocations on one cluster, whoever charges them (the usage ingest, or an admin
/// assigning unmatched usage): ONE ledger entry per allocation, UTC day of job ends and charge policy version (so the
/// ledger names the version that priced each job; jobs of one day split only where the rates changed that day), its
/// cause naming the job when it is the only one, each quota's cached used hours raised by the same amount, and each
/// user's running total on the allocation (<see cref="AllocationUserUsage"/>), one statement each. Hours are in the
/// program's unit, already priced. A job that costs nothing makes no ledger entry, but counts in its user's total.
/// </summary>
/// <param name="assignedFromAccount">
/// For an admin's assignment: the Slurm account the jobs reported, which the causes name. Null for the ingest.
/// </param>
public sealed class UsageCharges(string? assignedFromAccount = null)
{
    private readonly Dictionary<(Guid Allocation, DateTime Day, Guid? Policy), Day> days = [];
    private readonly Dictionary<Guid, decimal> hoursByAllocation = [];
    private readonly Dictionary<(Guid Allocation, string User), (long Jobs, decimal GpuHours)> users = [];

    /// <summary>Ledger entries the charges make.</summary>
    public int Entries => days.Count;

    /// <param name="submittedAt">The job's submit time, which with its id names it; null when the cluster did not send one.</param>
    /// <param name="hours">What the job costs in the program's unit.</param>
    /// <param name="policyId">The charge policy version that priced it; null for the default rate 1.</param>
    /// <param name="user">The Slurm user the cluster reported.</param>
    /// <param name="gpuHours">The job's GPU-hours as it ran, before rates.</param>
    public void Add(Guid allocationId, string jobId, DateTimeOffset? submittedAt, decimal hours, DateTimeOffset endedAt, Guid? policyId, string user, decimal gpuHours)
    {
        ref var total = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(users, (allocationId, user), out _);
        total = (total.Jobs + 1, total.GpuHours + gpuHours);
        if (hours <= 0)
        {
            return;
        }
        var key = (allocationId, endedAt.UtcDateTime.Date, policyId);
        if (!days.TryGetValue(key, out var day))
        {
            days[key] = day = new Day(jobId, submittedAt);
        }
        day.Add(hours, endedAt);
        hoursByAllocation[allocationId] = hoursByAllocation.GetValueOrDefault(allocationId) + hours;
    }

    /// <summary>
    /// Writes the ledger entries and raises the quotas' used hours, in the caller's transaction on
    /// <paramref name="connection"/>. An entry of one job names it in <c>usage_job_id</c> and <c>usage_job_submitted_at</c>,
    /// whose unique index refuses to charge that job a second time.
    /// </summary>
    internal async Task WriteAsync(NpgsqlConnection connection, Guid clusterId, DateTimeOffset now, Guid? actor, CancellationToken cancellationToken)
    {
        await WriteUsersAsync(connection, clusterId, cancellationToken);
        if (days.Count == 0)
        {
            return;
        }
        var entries = days.OrderBy(d => d.Key.Allocation).ThenBy(d => d.Key.Day).ThenBy(d => d.Value.LastEnd).ToList();
        await using (var ledger = new NpgsqlCommand("""
            INSERT INTO ledger_entries (allocation_id, cluster_id, kind, hours, effective_at, recorded_at, cause, actor_user_id, usage_job_id, usage_job_submitted_at, charge_policy_id)
            SELECT e.allocation_id, @cluster, 'Usage', -e.hours, e.effective_at, @now, e.cause, @actor, e.job_id, e.job_submitted_at, e.policy_id
            FROM unnest(@allocation, @hours, @effective, @cause, @job, @jobSubmitted, @policy) AS e(allocation_id, hours, effective_at, cause, job_id, job_submitted_at, policy_id)
            """, connection))
        {
            ledger.Parameters.AddWithValue("cluster", clusterId);
            ledger.Parameters.AddWithValue("now", now);
            ledger.Parameters.Add(new NpgsqlParameter("actor", NpgsqlTypes.NpgsqlDbType.Uuid) { Value = actor is { } who ? who : DBNull.Value });
            ledger.Parameters.AddWithValue("allocation", entries.Select(d => d.Key.Allocation).ToArray());
            ledger.Parameters.AddWithValue("hours", entries.Select(d => d.Value.Hours).ToArray());
            ledger.Parameters.AddWithValue("effective", entries.Select(d => d.Value.LastEnd).ToArray());
            ledger.Parameters.AddWithValue("cause", entries.Select(d => Cause(d.Key.Day, d.Value)).ToArray());
            ledger.Parameters.Add(new NpgsqlParameter<string?[]>("job", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text)
            {
                TypedValue = [.. entries.Select(d => d.Value.Jobs == 1 ? d.Value.FirstJob : null)],
            });
            ledger.Parameters.Add(new NpgsqlParameter<DateTimeOffset?[]>("jobSubmitted", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.TimestampTz)
            {
                TypedValue = [.. entries.Select(d => d.Value.Jobs == 1 ? d.Value.FirstJobSubmittedAt : null)],
            });
            ledger.Parameters.Add(new NpgsqlParameter<Guid?[]>("policy", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Uuid)
            {
                TypedValue = [.. entries.Select(d => d.Key.Policy)],
            });
            await ledger.ExecuteNonQueryAsync(cancellationToken);
        }
        var totals = hoursByAllocation.OrderBy(t => t.Key).ToList();
        await using var quotas = new NpgsqlCommand("""
            UPDATE allocation_quotas q SET used_hours = q.used_hours + t.hours
            FROM unnest(@allocation, @hours) AS t(allocation_id, hours)
            WHERE q.allocation_id = t.allocation_id AND q.cluster_id = @cluster
            """, connection);
        quotas.Parameters.AddWithValue("cluster", clusterId);
        quotas.Parameters.AddWithValue("allocation", totals.Select(t => t.Key).ToArray());
        quotas.Parameters.AddWithValue("hours", totals.Select(t => t.Value).ToArray());
        await quotas.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Adds the batch's jobs and GPU-hours to each user's running total on each allocation (sorted: concurrent batches lock rows in one order).</summary>
    private async Task WriteUsersAsync(NpgsqlConnection connection, Guid clusterId, CancellationToken cancellationToken)
    {
        if (users.Count == 0)
        {
            return;
        }
        var rows = users.OrderBy(u => u.Key.Allocation).ThenBy(u => u.Key.User, StringComparer.Ordinal).ToList();
        await using var command = new NpgsqlCommand("""
            INSERT INTO allocation_user_usage AS t (allocation_id, cluster_id, user_name, jobs, gpu_hours)
            SELECT u.allocation_id, @cluster, u.user_name, u.jobs, u.gpu_hours
            FROM unnest(@allocation, @user, @jobs, @gpuHours) AS u(allocation_id, user_name, jobs, gpu_hours)
            ON CONFLICT (allocation_id, cluster_id, user_name) DO UPDATE SET jobs = t.jobs + excluded.jobs, gpu_hours = t.gpu_hours + excluded.gpu_hours
            """, connection);
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("allocation", rows.Select(u => u.Key.Allocation).ToArray());
        command.Parameters.Add(new NpgsqlParameter<string[]>("user", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { TypedValue = [.. rows.Select(u => u.Key.User)] });
        command.Parameters.AddWithValue("jobs", rows.Select(u => u.Value.Jobs).ToArray());
        command.Parameters.AddWithValue("gpuHours", rows.Select(u => u.Value.GpuHours).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>"Job 123", or "12 jobs ended 2026-03-01 (UTC)"; an assignment adds the account and who charged it.</summary>
    private string Cause(DateTime date, Day day)
    {
        var what = day.Jobs == 1
            ? $"Job {day.FirstJob}"
            : string.Create(CultureInfo.InvariantCulture, $"{day.Jobs} jobs{(assignedFromAccount is null ? "" : $" of account {assignedFromAccount}")} ended {date:yyyy-MM-dd} (UTC)");
        return assignedFromAccount is null ? what
            : day.Jobs == 1 ? $"{what} (account {assignedFromAccount}, assigned by an admin)"
            : $"{what}, assigned by an admin";
    }

    private sealed class Day(string firstJob, DateTimeOffset? firstJobSubmittedAt)
    {
        public string FirstJob { get; } = firstJob;

        public DateTimeOffset? FirstJobSubmittedAt { get; } = firstJobSubmittedAt;

        public decimal Hours { get; private set; }

        public int Jobs { get; private set; }

        public DateTimeOffset LastEnd { get; private set; } = DateTimeOffset.MinValue;

        public void Add(decimal hours, DateTimeOffset end)
        {
            Hours += hours;
            Jobs++;
            if (end > LastEnd)
            {
                LastEnd = end;
            }
        }
    }
}

using System.Security.Cryptography;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Meta.ComputeAccess.Allocations;

/// <summary>What an admin (or, later, an accepted award) asks for when creating an allocation.</summary>
public sealed record NewAllocation(
    Guid PeriodId,
    Guid PiUserId,
    string ProjectTitle,
    DateOnly StartDate,
    DateOnly EndDate,
    IReadOnlyDictionary<Guid, decimal> HoursByCluster,
    Guid? ProposalId = null,
    string? SlurmAccount = null);

/// <summary>
/// Every change to allocations and their ledger: one transaction each, capacity checked under a row lock,
/// the ledger written with its cause, the cached quota figures updated, history and audit recorded.
/// </summary>
public sealed class AllocationService(PortalDbContext db, CapacityGuard capacity, AuditLog audit, AllocationNotices notices, TimeProvider clock)
{
    public async Task<Allocation> CreateAsync(NewAllocation request, Guid? actor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = clock.GetUtcNow();
        var period = await db.AllocationPeriods.AsNoTracking().SingleOrDefaultAsync(p => p.Id == request.PeriodId, cancellationToken)
            ?? throw new DomainException("Choose an allocation period.");
        if (!period.Contains(request.StartDate))
        {
            throw new DomainException($"The start date must lie within {period.Name} ({period.StartDate:yyyy-MM-dd} to {period.EndDate:yyyy-MM-dd}).");
        }
        var lines = request.HoursByCluster.Where(h => h.Value != 0).OrderBy(h => h.Key).ToList();
        if (lines.Count == 0 || lines.Any(h => h.Value < 0))
        {
            throw new DomainException("Grant a positive number of GPU-hours on at least one cluster.");
        }
        if (!await db.Users.AnyAsync(u => u.Id == request.PiUserId, cancellationToken))
        {
            throw new DomainException("The PI is not a portal user.");
        }
        var account = request.SlurmAccount is { Length: > 0 } given ? given.Trim() : await GenerateAccountAsync(request.ProjectTitle, cancellationToken);

        return await InTransactionAsync(async () =>
        {
            var allocation = Allocation.Create(request.PeriodId, request.PiUserId, request.ProjectTitle, account, request.StartDate, request.EndDate, request.ProposalId, actor, now);
            await RequireAccountFreeAsync(account, request.StartDate, request.EndDate, null, cancellationToken);
            if (request.ProposalId is { } proposalId)
            {
                // The awarded proposal's team who had joined run under the account from the start; the PI adds others later.
                var team = await db.ProposalMembers.AsNoTracking().Where(m => m.ProposalId == proposalId && m.UserId != null)
                    .OrderBy(m => m.InvitedAt).Select(m => m.UserId!.Value).ToListAsync(cancellationToken);
                foreach (var userId in team)
                {
                    allocation.AddMember(userId, AllocationMemberRole.CoInvestigator, actor, now, "Co-investigator of the awarded proposal");
                }
            }
            db.Allocations.Add(allocation);
            // Locks in cluster-id order, so two multi-cluster grants cannot deadlock.
            foreach (var (clusterId, hours) in lines)
            {
                await capacity.CommitAsync(clusterId, request.PeriodId, hours, cancellationToken);
                var quota = allocation.AddQuota(clusterId);
                Post(allocation.Id, quota, LedgerEntryKind.Grant, hours, now, now,
                    request.ProposalId is null ? "Discretionary grant" : "Award of the proposal", actor);
            }
            if (allocation.State == AllocationState.Active)
            {
                // A pending allocation is announced by the lifecycle job on its start date.
                await notices.ActiveAsync(allocation, cancellationToken);
            }
            audit.Record(actor, "allocation.created", "allocation", allocation.Id.ToString(),
                $"Allocation {account} created for \"{allocation.ProjectTitle}\": {string.Join(", ", lines.Select(l => $"{l.Value.AsHours()} GPU-h"))}");
            await db.SaveChangesAsync(cancellationToken);
            return allocation;
        }, cancellationToken);
    }

    public Task SuspendAsync(Guid allocationId, string reason, Guid actor, CancellationToken cancellationToken = default) =>
        ChangeStateAsync(allocationId, actor, "allocation.suspended", a => a.Suspend(clock.GetUtcNow(), actor, reason), $"Suspended: {reason}", cancellationToken);

    public Task ResumeAsync(Guid allocationId, string reason, Guid actor, CancellationToken cancellationToken = default) =>
        ChangeStateAsync(allocationId, actor, "allocation.resumed", a => a.Resume(clock.GetUtcNow(), actor, reason), $"Resumed: {reason}", cancellationToken);

    /// <summary>
    /// Ends an allocation before its end date. The hours it has not used are written off (an expiry entry per
    /// cluster) and handed back to the cluster's capacity for the period, so the program can grant them again.
    /// An allocation that reaches its end date keeps its hours committed instead: by then the period's time for them
    /// has passed.
    /// </summary>
    public Task CloseAsync(Guid allocationId, string reason, Guid actor, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async () =>
        {
            var allocation = await LockAsync(allocationId, cancellationToken);
            var now = clock.GetUtcNow();
            allocation.Close(now, actor, reason);
            var released = new List<string>();
            // Capacity rows are locked in cluster-id order, as everywhere else.
            foreach (var quota in allocation.Quotas.Where(q => q.RemainingHours > 0).OrderBy(q => q.ClusterId).ToList())
            {
                var hours = quota.RemainingHours;
                await capacity.CommitAsync(quota.ClusterId, allocation.PeriodId, -hours, cancellationToken);
                Post(allocation.Id, quota, LedgerEntryKind.Expiry, -hours, now, now, $"Closed early, unused hours returned to the cluster's capacity: {reason.Trim()}", actor);
                released.Add($"{hours.AsHours()} GPU-h");
            }
            var summary = released.Count == 0 ? "" : $"; released {string.Join(" and ", released)} to capacity";
            audit.Record(actor, "allocation.closed", "allocation", allocation.Id.ToString(), $"{allocation.SlurmAccount}: Closed: {reason.Trim()}{summary}");
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }, cancellationToken);

    /// <summary>An admin's correction on one cluster (either sign), with a reason; positive hours need capacity.</summary>
    public Task AdjustAsync(Guid allocationId, Guid clusterId, decimal hours, string reason, Guid actor, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async () =>
        {
            if (hours == 0 || string.IsNullOrWhiteSpace(reason))
            {
                throw new DomainException("An adjustment needs a non-zero number of hours and a reason.");
            }
            reason = Allocation.CheckReason(reason);
            var allocation = await LockAsync(allocationId, cancellationToken);
            allocation.RequireOpen();
            var quota = allocation.QuotaOn(clusterId);
            if (quota.GrantedHours + hours < 0)
            {
                throw new DomainException($"Only {quota.GrantedHours.AsHours()} GPU-hours are granted on this cluster; the adjustment would make it negative.");
            }
            await capacity.CommitAsync(clusterId, allocation.PeriodId, hours, cancellationToken);
            var now = clock.GetUtcNow();
            Post(allocation.Id, quota, LedgerEntryKind.Adjustment, hours, now, now, reason.Trim(), actor);
            allocation.Note(now, actor, "adjusted", $"{hours.AsSignedHours()} GPU-hours: {reason.Trim()}");
            ReactivateIfRefilled(allocation, actor, now);
            audit.Record(actor, "allocation.adjusted", "allocation", allocation.Id.ToString(), $"Adjusted {allocation.SlurmAccount} by {hours.AsSignedHours()} GPU-hours: {reason.Trim()}");
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }, cancellationToken);

    /// <summary>Moves unused hours between two clusters of one allocation: capacity is freed on one and needed on the other.</summary>
    public Task TransferAsync(Guid allocationId, Guid fromClusterId, Guid toClusterId, decimal hours, string reason, Guid actor, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async () =>
        {
            if (hours <= 0 || fromClusterId == toClusterId || string.IsNullOrWhiteSpace(reason))
            {
                throw new DomainException("A transfer needs two different clusters, a positive number of hours and a reason.");
            }
            reason = Allocation.CheckReason(reason);
            var allocation = await LockAsync(allocationId, cancellationToken);
            allocation.RequireOpen();
            var from = allocation.QuotaOn(fromClusterId);
            var to = allocation.QuotaOn(toClusterId);
            if (from.RemainingHours < hours)
            {
                throw new DomainException($"Only {Math.Max(0, from.RemainingHours).AsHours()} GPU-hours remain on the source cluster.");
            }
            foreach (var (cluster, delta) in new[] { (fromClusterId, -hours), (toClusterId, hours) }.OrderBy(x => x.Item1))
            {
                await capacity.CommitAsync(cluster, allocation.PeriodId, delta, cancellationToken);
            }
            var now = clock.GetUtcNow();
            Post(allocation.Id, from, LedgerEntryKind.TransferOut, -hours, now, now, reason.Trim(), actor);
            Post(allocation.Id, to, LedgerEntryKind.TransferIn, hours, now, now, reason.Trim(), actor);
            allocation.Note(now, actor, "transferred", $"{hours.AsHours()} GPU-hours moved between clusters: {reason.Trim()}");
            audit.Record(actor, "allocation.transferred", "allocation", allocation.Id.ToString(), $"Moved {hours.AsHours()} GPU-hours of {allocation.SlurmAccount} between clusters: {reason.Trim()}");
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }, cancellationToken);

    public Task ChangeSlurmAccountAsync(Guid allocationId, string account, Guid actor, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async () =>
        {
            var allocation = await LockAsync(allocationId, cancellationToken);
            account = account.Trim();
            var old = allocation.SlurmAccount;
            allocation.ChangeSlurmAccount(account, clock.GetUtcNow(), actor);
            await RequireAccountFreeAsync(account, allocation.StartDate, allocation.EndDate, allocation.Id, cancellationToken);
            audit.Record(actor, "allocation.account-changed", "allocation", allocation.Id.ToString(), $"Slurm account changed from {old} to {account}");
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }, cancellationToken);

    public Task<SupplementRequest> RequestSupplementAsync(Guid allocationId, Guid? clusterId, decimal? hours, DateOnly? endDate, string justification, Guid requester, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async () =>
        {
            var allocation = await LockAsync(allocationId, cancellationToken);
            if (await db.SupplementRequests.AnyAsync(s => s.AllocationId == allocationId && s.Status == SupplementStatus.Pending, cancellationToken))
            {
                throw new DomainException("A request for this allocation is already waiting for a decision.");
            }
            var now = clock.GetUtcNow();
            var request = SupplementRequest.Create(allocation, clusterId, hours, endDate, justification, requester, now);
            db.SupplementRequests.Add(request);
            allocation.Note(now, requester, "supplement-requested", Describe(request.RequestedHours, request.RequestedEndDate) + ": " + request.Justification);
            await db.SaveChangesAsync(cancellationToken);
            return request;
        }, cancellationToken);

    /// <summary>Approves all or part of a request: extra hours need capacity on the cluster in the allocation's period.</summary>
    public Task ApproveSupplementAsync(Guid requestId, decimal? hours, DateOnly? endDate, string? message, Guid actor, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async () =>
        {
            var request = await LockRequestAsync(requestId, cancellationToken);
            var allocation = await LockAsync(request.AllocationId, cancellationToken);
            allocation.RequireOpen();
            var now = clock.GetUtcNow();
            request.Approve(hours, endDate, message, actor, now);
            if (request.ApprovedHours is { } extra)
            {
                await capacity.CommitAsync(request.ClusterId!.Value, allocation.PeriodId, extra, cancellationToken);
                Post(allocation.Id, allocation.QuotaOn(request.ClusterId.Value), LedgerEntryKind.Supplement, extra, now, now,
                    "Supplement approved" + (string.IsNullOrWhiteSpace(message) ? "" : ": " + message.Trim()), actor, supplementRequestId: request.Id);
            }
            var decided = Describe(request.ApprovedHours, request.ApprovedEndDate);
            if (request.ApprovedEndDate is { } end)
            {
                allocation.Extend(end, now, actor, "Extension approved.");
                await RequireAccountFreeAsync(allocation.SlurmAccount, allocation.StartDate, end, allocation.Id, cancellationToken);
            }
            allocation.Note(now, actor, "supplement-approved", decided + (string.IsNullOrWhiteSpace(message) ? "" : ": " + message.Trim()));
            ReactivateIfRefilled(allocation, actor, now);
            audit.Record(actor, "supplement.approved", "allocation", allocation.Id.ToString(), $"Approved for {allocation.SlurmAccount}: {decided}");
            await notices.SupplementDecidedAsync(allocation, approved: true, decided, message, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }, cancellationToken);

    public Task DeclineSupplementAsync(Guid requestId, string message, Guid actor, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async () =>
        {
            var request = await LockRequestAsync(requestId, cancellationToken);
            var allocation = await LockAsync(request.AllocationId, cancellationToken);
            var now = clock.GetUtcNow();
            request.Decline(message, actor, now);
            allocation.Note(now, actor, "supplement-declined", message.Trim());
            audit.Record(actor, "supplement.declined", "allocation", allocation.Id.ToString(), $"Declined a request of {allocation.SlurmAccount}: {message.Trim()}");
            await notices.SupplementDecidedAsync(allocation, approved: false, Describe(request.RequestedHours, request.RequestedEndDate), message, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }, cancellationToken);

    /// <summary>
    /// The allocation with its quota lines, locked for this transaction and read as locked: one statement per table.
    /// The quota rows are locked too because the usage ingest raises their used hours without the allocation's lock.
    /// </summary>
    internal async Task<Allocation> LockAsync(Guid allocationId, CancellationToken cancellationToken)
    {
        var rows = await db.LockAsync<Allocation>($"SELECT * FROM allocations WHERE id = {allocationId} FOR UPDATE", cancellationToken);
        if (rows.Count == 0)
        {
            throw new DomainException("No such allocation.");
        }
        // Tracked quotas are fixed up into the allocation's Quotas.
        await db.LockAsync<AllocationQuota>($"SELECT * FROM allocation_quotas WHERE allocation_id = {allocationId} ORDER BY cluster_id FOR UPDATE", cancellationToken);
        return rows[0];
    }

    /// <summary>
    /// A Slurm account is held by one open allocation at a time: another allocation may use the same account (a
    /// renewal: Slurm knows the account, its members and its usage) only if its dates do not overlap any open one's.
    /// Ended allocations (expired, closed) no longer hold it. Checked under a lock on the account name, so two admins
    /// cannot give it to two allocations at once.
    /// </summary>
    private async Task RequireAccountFreeAsync(string account, DateOnly start, DateOnly end, Guid? except, CancellationToken cancellationToken)
    {
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({"slurm-account:" + account}, 0))", cancellationToken);
        var holder = await db.Allocations.AsNoTracking()
            .Where(a => a.SlurmAccount == account && a.Id != except && Allocation.OpenStates.Contains(a.State) && a.StartDate <= end && a.EndDate >= start)
            .Select(a => new { a.ProjectTitle, a.StartDate, a.EndDate })
            .FirstOrDefaultAsync(cancellationToken);
        if (holder is not null)
        {
            throw new DomainException(
                $"The Slurm account {account} is held by the allocation \"{holder.ProjectTitle}\" from {holder.StartDate:yyyy-MM-dd} to {holder.EndDate:yyyy-MM-dd}. " +
                "Another allocation of the same account (a renewal) must start after that one ends, or after it is closed.");
        }
    }

    private async Task<SupplementRequest> LockRequestAsync(Guid requestId, CancellationToken cancellationToken) =>
        (await db.LockAsync<SupplementRequest>($"SELECT * FROM supplement_requests WHERE id = {requestId} FOR UPDATE", cancellationToken)).SingleOrDefault()
            ?? throw new DomainException("No such request.");

    internal void Post(Guid allocationId, AllocationQuota quota, LedgerEntryKind kind, decimal hours, DateTimeOffset effectiveAt, DateTimeOffset now, string cause, Guid? actor, string? usageJobId = null, Guid? supplementRequestId = null)
    {
        db.LedgerEntries.Add(new AllocationLedgerEntry(allocationId, quota.ClusterId, kind, hours, effectiveAt, now, cause, actor, usageJobId, supplementRequestId));
        quota.Apply(kind, hours);
    }

    private static void ReactivateIfRefilled(Allocation allocation, Guid actor, DateTimeOffset now)
    {
        if (allocation.State == AllocationState.Exhausted && allocation.Quotas.Sum(q => q.RemainingHours) > 0)
        {
            allocation.Reactivate(now, actor, "More hours were granted");
        }
    }

    private async Task ChangeStateAsync(Guid allocationId, Guid actor, string action, Action<Allocation> change, string summary, CancellationToken cancellationToken) =>
        await InTransactionAsync(async () =>
        {
            var allocation = await LockAsync(allocationId, cancellationToken);
            change(allocation);
            audit.Record(actor, action, "allocation", allocation.Id.ToString(), $"{allocation.SlurmAccount}: {summary}");
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }, cancellationToken);

    private static string Describe(decimal? hours, DateOnly? end) =>
        string.Join(" and ", new[]
        {
            hours is { } h ? $"{h.AsHours()} more GPU-hours" : null,
            end is { } e ? $"end date {e:yyyy-MM-dd}" : null,
        }.Where(s => s is not null));

    private async Task<string> GenerateAccountAsync(string title, CancellationToken cancellationToken)
    {
        var stem = Allocation.AccountBase(title ?? "");
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var candidate = $"{stem}-{RandomNumberGenerator.GetString("abcdefghijkmnpqrstuvwxyz23456789", 5)}";
            if (!await db.Allocations.AnyAsync(a => a.SlurmAccount == candidate, cancellationToken))
            {
                return candidate;
            }
        }
        throw new DomainException("Could not find a free Slurm account name; enter one.");
    }

    /// <summary>Runs <paramref name="work"/> in a transaction (the caller's, if one is open); a unique-key race becomes a clear message.</summary>
    internal async Task<T> InTransactionAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken)
    {
        IDbContextTransaction? own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        try
        {
            var result = await work();
            if (own is not null)
            {
                await own.CommitAsync(cancellationToken);
            }
            return result;
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } pg)
        {
            db.ChangeTracker.Clear();
            throw new DomainException(pg.ConstraintName?.Contains("slurm_account", StringComparison.Ordinal) == true
                ? "That Slurm account was just taken by another allocation; choose another."
                : "Someone else changed the same data at the same moment; try again.");
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.CheckViolation })
        {
            db.ChangeTracker.Clear();
            throw new DomainException("The change would break a limit (capacity or ledger sign) and was refused; nothing was saved.");
        }
        catch
        {
            db.ChangeTracker.Clear();
            throw;
        }
        finally
        {
            if (own is not null)
            {
                await own.DisposeAsync();
            }
        }
    }
}

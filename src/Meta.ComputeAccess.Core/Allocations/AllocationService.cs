using System.Security.Cryptography;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Meta.ComputeAccess.Allocations;

/// <summary>What an admin (or an accepted award) asks for when creating an allocation.</summary>
/// <param name="HoursByCluster">Hours in the program's unit per cluster.</param>
/// <param name="Tranches">
/// How the hours are released, as percentages adding up to 100 (null: all at once): the first share at the start, each
/// later one held, committed in capacity, until <see cref="AllocationService.ReleaseNextTrancheAsync"/> releases it.
/// </param>
public sealed record NewAllocation(
    Guid PeriodId,
    Guid PiUserId,
    string ProjectTitle,
    DateOnly StartDate,
    DateOnly EndDate,
    IReadOnlyDictionary<Guid, decimal> HoursByCluster,
    Guid? ProposalId = null,
    string? SlurmAccount = null,
    IReadOnlyList<int>? Tranches = null);

/// <summary>
/// Every change to allocations and their ledger: one transaction each, capacity checked under a row lock,
/// the ledger written with its cause, the cached quota figures updated, history and audit recorded.
/// </summary>
public sealed class AllocationService(PortalDbContext db, CapacityGuard capacity, AuditLog audit, AllocationNotices notices, TimeProvider clock, IOptions<AllocationOptions> options)
{
    /// <summary>What a later tranche waits for, as the allocation page says it.</summary>
    public const string TrancheCondition = "an accepted progress report, or an admin's release with a reason";

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
        var tranches = request.Tranches ?? [100];
        AllocationTranche.CheckPercents(tranches);
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
            // A renewal pays back what was advanced ahead of it: the advances against its proposal, and those to earlier
            // allocations of its Slurm account (a renewal is a new allocation of the account).
            var advances = await OutstandingAdvancesAsync(request.ProposalId, account, cancellationToken);
            // Every tranche is committed in capacity now; only the first enters the quota.
            foreach (var (clusterId, hours) in lines)
            {
                var parts = AllocationTranche.Split(hours, tranches);
                var deductions = Deductions(advances, clusterId, parts[0]);
                // The advances' hours were committed when they were advanced: the award commits that much less.
                await capacity.CommitAsync(clusterId, request.PeriodId, hours - deductions.Sum(d => d.Hours), cancellationToken);
                var quota = allocation.AddQuota(clusterId);
                var cause = request.ProposalId is null ? "Discretionary grant" : "Award of the proposal";
                Post(allocation.Id, quota, LedgerEntryKind.Grant, parts[0], now, now,
                    parts.Count == 1 ? cause : $"{cause}, tranche 1 of {parts.Count} ({tranches[0]} % of {hours.AsHours()})", actor);
                for (var i = 1; i < parts.Count; i++)
                {
                    quota.Hold(parts[i]);
                    db.AllocationTranches.Add(new AllocationTranche(allocation.Id, i + 1, clusterId, parts[i], TrancheCondition));
                }
                foreach (var (advance, take) in deductions)
                {
                    db.LedgerEntries.Add(new AllocationLedgerEntry(allocation.Id, clusterId, LedgerEntryKind.AdvanceDeduction, -take, now, now,
                        $"Advance of {advance.Hours.AsHours()} hours made {advance.GrantedAt:yyyy-MM-dd} ahead of this renewal, deducted", actor, advanceId: advance.Id));
                    quota.Apply(LedgerEntryKind.AdvanceDeduction, -take);
                    allocation.Note(now, actor, "advance-deducted", $"{take.AsHours()} hours advanced ahead of this renewal deducted from its grant");
                }
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
            var held = await db.AllocationTranches.Where(t => t.AllocationId == allocation.Id && t.ReleasedAt == null && !t.Cancelled).ToListAsync(cancellationToken);
            // Capacity rows are locked in cluster-id order, as everywhere else.
            foreach (var quota in allocation.Quotas.Where(q => q.RemainingHours > 0 || q.HeldHours > 0).OrderBy(q => q.ClusterId).ToList())
            {
                var hours = Math.Max(0, quota.RemainingHours);
                var unreleased = quota.HeldHours;
                await capacity.CommitAsync(quota.ClusterId, allocation.PeriodId, -(hours + unreleased), cancellationToken);
                if (hours > 0)
                {
                    Post(allocation.Id, quota, LedgerEntryKind.Expiry, -hours, now, now, $"Closed early, unused hours returned to the cluster's capacity: {reason.Trim()}", actor);
                }
                if (unreleased > 0)
                {
                    // Never released, so never in the ledger: only the holding and the capacity change.
                    quota.Unhold(unreleased);
                }
                released.Add($"{(hours + unreleased).AsHours()} h");
            }
            foreach (var tranche in held)
            {
                tranche.Cancel(now, actor, $"Not released: the allocation was closed early ({reason.Trim()})");
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

    /// <summary>
    /// An admin moves unused hours from one cluster of the allocation to another (one it has, or one it has not had yet),
    /// in the program's unit, so they keep their worth at the two clusters' rates: capacity is freed on one and needed on
    /// the other, and both ledger sides are written in one transaction.
    /// </summary>
    public Task TransferAsync(Guid allocationId, Guid fromClusterId, Guid toClusterId, decimal hours, string reason, Guid actor, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async () =>
        {
            if (string.IsNullOrWhiteSpace(reason))
            {
                throw new DomainException("A transfer needs two different clusters, a positive number of hours and a reason.");
            }
            reason = Allocation.CheckReason(reason);
            var allocation = await LockAsync(allocationId, cancellationToken);
            var now = clock.GetUtcNow();
            await MoveAsync(allocation, fromClusterId, toClusterId, hours, reason, actor, now, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }, cancellationToken);

    /// <summary>The PI asks to move hours between clusters; an admin approves (the transfer happens then) or declines.</summary>
    public Task<TransferRequest> RequestTransferAsync(Guid allocationId, Guid fromClusterId, Guid toClusterId, decimal hours, string justification, Guid requester, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async () =>
        {
            var allocation = await LockAsync(allocationId, cancellationToken);
            if (await db.TransferRequests.AnyAsync(t => t.AllocationId == allocationId && t.Status == SupplementStatus.Pending, cancellationToken))
            {
                throw new DomainException("A transfer request for this allocation is already waiting for a decision.");
            }
            await RequireClusterAsync(toClusterId, cancellationToken);
            var now = clock.GetUtcNow();
            var request = TransferRequest.Create(allocation, fromClusterId, toClusterId, hours, justification, requester, now);
            db.TransferRequests.Add(request);
            allocation.Note(now, requester, "transfer-requested", $"{hours.AsHours()} hours from {await ClusterNameAsync(fromClusterId, cancellationToken)} to {await ClusterNameAsync(toClusterId, cancellationToken)}: {request.Justification}");
            await db.SaveChangesAsync(cancellationToken);
            return request;
        }, cancellationToken);

    public Task ApproveTransferAsync(Guid requestId, string? message, Guid actor, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async () =>
        {
            var request = (await db.LockAsync<TransferRequest>($"SELECT * FROM transfer_requests WHERE id = {requestId} FOR UPDATE", cancellationToken)).SingleOrDefault()
                ?? throw new DomainException("No such request.");
            var allocation = await LockAsync(request.AllocationId, cancellationToken);
            var now = clock.GetUtcNow();
            request.Approve(message, actor, now);
            var what = await MoveAsync(allocation, request.FromClusterId, request.ToClusterId, request.Hours,
                "Transfer requested by the PI, approved" + (string.IsNullOrWhiteSpace(message) ? "" : ": " + message.Trim()), actor, now, cancellationToken);
            await notices.SupplementDecidedAsync(allocation, approved: true, what, message, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }, cancellationToken);

    public Task DeclineTransferAsync(Guid requestId, string message, Guid actor, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async () =>
        {
            var request = (await db.LockAsync<TransferRequest>($"SELECT * FROM transfer_requests WHERE id = {requestId} FOR UPDATE", cancellationToken)).SingleOrDefault()
                ?? throw new DomainException("No such request.");
            var allocation = await LockAsync(request.AllocationId, cancellationToken);
            var now = clock.GetUtcNow();
            request.Decline(message, actor, now);
            var what = $"moving {request.Hours.AsHours()} hours between clusters";
            allocation.Note(now, actor, "transfer-declined", $"{what}: {message.Trim()}");
            audit.Record(actor, "transfer.declined", "allocation", allocation.Id.ToString(), $"Declined a transfer request of {allocation.SlurmAccount}: {message.Trim()}");
            await notices.SupplementDecidedAsync(allocation, approved: false, what, message, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }, cancellationToken);

    /// <summary>
    /// An admin releases the next tranche of the allocation by hand, with a reason (<see cref="ReleaseNextTrancheAsync(Allocation, string, Guid?, CancellationToken)"/>);
    /// refused when none is waiting.
    /// </summary>
    /// <returns>The tranche number released.</returns>
    public Task<int> ReleaseNextTrancheAsync(Guid allocationId, string reason, Guid? actor, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async () =>
        {
            reason = Allocation.CheckReason(reason);
            var allocation = await LockAsync(allocationId, cancellationToken);
            allocation.RequireOpen();
            var number = await ReleaseNextTrancheAsync(allocation, reason, actor, cancellationToken)
                ?? throw new DomainException("This allocation has no tranche waiting to be released.");
            await db.SaveChangesAsync(cancellationToken);
            return number;
        }, cancellationToken);

    /// <summary>
    /// Releases the next tranche of <paramref name="allocation"/> (open, locked by the caller) on every cluster it has one
    /// on: a <see cref="LedgerEntryKind.TrancheRelease"/> entry each, the hours moving from held to the quota (capacity
    /// was committed at the grant). Adds to the caller's unit of work without saving: an accepted progress report
    /// (<see cref="TrancheReleaseOnAcceptedReport"/>) releases it in the acceptance's transaction.
    /// </summary>
    /// <returns>The tranche number released, or null when none is waiting.</returns>
    internal async Task<int?> ReleaseNextTrancheAsync(Allocation allocation, string reason, Guid? actor, CancellationToken cancellationToken)
    {
        var pending = await db.AllocationTranches.Where(t => t.AllocationId == allocation.Id && t.ReleasedAt == null && !t.Cancelled)
            .OrderBy(t => t.Number).ThenBy(t => t.ClusterId).ToListAsync(cancellationToken);
        if (pending.Count == 0)
        {
            return null;
        }
        var number = pending[0].Number;
        var now = clock.GetUtcNow();
        var total = 0m;
        foreach (var tranche in pending.Where(t => t.Number == number))
        {
            var quota = allocation.QuotaOn(tranche.ClusterId);
            quota.Unhold(tranche.Hours);
            Post(allocation.Id, quota, LedgerEntryKind.TrancheRelease, tranche.Hours, now, now, $"Tranche {number} released: {reason}", actor);
            tranche.Release(now, actor, reason);
            total += tranche.Hours;
        }
        allocation.Note(now, actor, "tranche-released", $"Tranche {number} ({total.AsHours()} hours) released: {reason}");
        ReactivateIfRefilled(allocation, actor, now);
        audit.Record(actor, "allocation.tranche-released", "allocation", allocation.Id.ToString(), $"{allocation.SlurmAccount}: tranche {number} ({total.AsHours()} hours) released: {reason}");
        return number;
    }

    /// <summary>
    /// Advances hours to an open allocation ahead of its expected renewal (the PI's renewal proposal, not decided yet),
    /// capped at <see cref="AllocationOptions.AdvanceCap"/> of what the proposal requests on the cluster (all advances
    /// against it together), within capacity. Deducted from the renewal's grant when it comes (the award accepted, which
    /// then renews this allocation's Slurm account if it is free; or the account's next allocation created by an admin);
    /// a debt if the renewal is declined.
    /// </summary>
    public Task<AllocationAdvance> AdvanceAsync(Guid allocationId, Guid proposalId, Guid clusterId, decimal hours, string reason, Guid actor, CancellationToken cancellationToken = default) =>
        InTransactionAsync(async () =>
        {
            if (hours <= 0 || hours > 10_000_000 || decimal.Round(hours, 6) != hours)
            {
                throw new DomainException("Advance a positive number of hours (at most 6 decimals).", new Dictionary<string, string> { ["Hours"] = "A positive number." });
            }
            reason = Allocation.CheckReason(reason);
            var allocation = await LockAsync(allocationId, cancellationToken);
            allocation.RequireOpen();
            var renewal = await db.Proposals.AsNoTracking().Where(p => p.Id == proposalId)
                .Select(p => new { p.PiUserId, p.Title, p.Status, p.SubmittedAt, p.DecisionReleasedAt, Requested = p.Requests.Where(r => r.ClusterId == clusterId).Sum(r => r.RequestedHours) })
                .SingleOrDefaultAsync(cancellationToken);
            if (renewal is null || renewal.PiUserId != allocation.PiUserId || renewal.SubmittedAt is null || renewal.DecisionReleasedAt is not null
                || renewal.Status == Proposals.ProposalStatus.Withdrawn)
            {
                throw new DomainException("An advance is made against a submitted proposal of the same PI whose decision is not released yet.");
            }
            // Advances against one proposal may come from several of the PI's allocations: the cap is checked under a
            // lock of the proposal's advances, so two at once cannot both pass it.
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({"proposal-advances:" + proposalId}, 0))", cancellationToken);
            var advanced = await db.AllocationAdvances.Where(a => a.ProposalId == proposalId && a.ClusterId == clusterId).SumAsync(a => a.Hours, cancellationToken);
            var cap = decimal.Round(renewal.Requested * options.Value.AdvanceCap, 6, MidpointRounding.ToZero);
            if (advanced + hours > cap)
            {
                throw new DomainException($"At most {cap.AsHours()} hours may be advanced on this cluster ({options.Value.AdvanceCap:P0} of the {renewal.Requested.AsHours()} the renewal requests); {advanced.AsHours()} already are.",
                    new Dictionary<string, string> { ["Hours"] = $"At most {(Math.Max(0, cap - advanced)).AsHours()}." });
            }
            await RequireClusterAsync(clusterId, cancellationToken);
            await capacity.CommitAsync(clusterId, allocation.PeriodId, hours, cancellationToken);
            var now = clock.GetUtcNow();
            var advance = new AllocationAdvance(allocation.Id, proposalId, clusterId, hours, reason, actor, now);
            db.AllocationAdvances.Add(advance);
            var quota = allocation.Quotas.SingleOrDefault(q => q.ClusterId == clusterId) ?? allocation.AddQuota(clusterId);
            db.LedgerEntries.Add(new AllocationLedgerEntry(allocation.Id, clusterId, LedgerEntryKind.Advance, hours, now, now,
                $"Advance against the renewal \"{renewal.Title}\", to be deducted from its award: {reason}", actor, advanceId: advance.Id));
            quota.Apply(LedgerEntryKind.Advance, hours);
            allocation.Note(now, actor, "advanced", $"{hours.AsHours()} hours advanced against the renewal \"{renewal.Title}\": {reason}");
            ReactivateIfRefilled(allocation, actor, now);
            audit.Record(actor, "allocation.advanced", "allocation", allocation.Id.ToString(), $"{allocation.SlurmAccount}: {hours.AsHours()} hours advanced against proposal {proposalId}: {reason}");
            await db.SaveChangesAsync(cancellationToken);
            return advance;
        }, cancellationToken);

    /// <summary>
    /// The Slurm account an award of <paramref name="proposalId"/> renews: the account of the allocation that hours were
    /// advanced to against it, when no open allocation holds that account between <paramref name="start"/> and
    /// <paramref name="end"/>; else null (the award gets an account of its own, and still pays the advances back).
    /// </summary>
    public async Task<string?> RenewedAccountAsync(Guid proposalId, DateOnly start, DateOnly end, CancellationToken cancellationToken = default)
    {
        var accounts = await db.AllocationAdvances.AsNoTracking().Where(a => a.ProposalId == proposalId)
            .Join(db.Allocations, a => a.AllocationId, x => x.Id, (a, x) => x.SlurmAccount).Distinct().ToListAsync(cancellationToken);
        return accounts is [var account] && await HolderAsync(account, start, end, null, cancellationToken) is null ? account : null;
    }

    /// <summary>
    /// What was advanced ahead of a renewal and is not deducted yet: the advances against its proposal
    /// (<paramref name="proposalId"/>) and those to earlier allocations of its Slurm account, oldest first.
    /// </summary>
    private async Task<List<(AllocationAdvance Advance, decimal Outstanding)>> OutstandingAdvancesAsync(Guid? proposalId, string account, CancellationToken cancellationToken)
    {
        var advances = await db.AllocationAdvances.AsNoTracking()
            .Where(a => (proposalId != null && a.ProposalId == proposalId) || db.Allocations.Any(x => x.Id == a.AllocationId && x.SlurmAccount == account))
            .OrderBy(a => a.GrantedAt).ToListAsync(cancellationToken);
        if (advances.Count == 0)
        {
            return [];
        }
        var ids = advances.Select(a => a.Id).ToList();
        var deducted = await db.LedgerEntries.Where(e => e.AdvanceId != null && ids.Contains(e.AdvanceId.Value) && e.Kind == LedgerEntryKind.AdvanceDeduction)
            .GroupBy(e => e.AdvanceId!.Value).Select(g => new { g.Key, Hours = -g.Sum(e => e.Hours) }).ToDictionaryAsync(g => g.Key, g => g.Hours, cancellationToken);
        return [.. advances.Select(a => (a, a.Hours - deducted.GetValueOrDefault(a.Id))).Where(a => a.Item2 > 0)];
    }

    /// <summary>
    /// What to take back on one cluster of an award from its advances there, oldest first, as far as the award's
    /// first tranche on the cluster goes; what cannot be taken stays outstanding (a debt once the renewal is over).
    /// </summary>
    private static List<(AllocationAdvance Advance, decimal Hours)> Deductions(List<(AllocationAdvance Advance, decimal Outstanding)> advances, Guid clusterId, decimal available)
    {
        var deductions = new List<(AllocationAdvance, decimal)>();
        foreach (var (advance, outstanding) in advances.Where(a => a.Advance.ClusterId == clusterId))
        {
            var take = Math.Min(outstanding, available);
            if (take <= 0)
            {
                break;
            }
            deductions.Add((advance, take));
            available -= take;
        }
        return deductions;
    }

    /// <summary>Moves <paramref name="hours"/> between two clusters of the allocation (creating its line on the destination); returns what was done, in words.</summary>
    private async Task<string> MoveAsync(Allocation allocation, Guid fromClusterId, Guid toClusterId, decimal hours, string reason, Guid actor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        allocation.RequireOpen();
        Allocation.CheckTransfer(fromClusterId, toClusterId, hours);
        var from = allocation.QuotaOn(fromClusterId);
        if (from.RemainingHours < hours)
        {
            throw new DomainException($"Only {(Math.Max(0, from.RemainingHours)).AsHours()} hours remain on the source cluster.");
        }
        await RequireClusterAsync(toClusterId, cancellationToken);
        var to = allocation.Quotas.SingleOrDefault(q => q.ClusterId == toClusterId) ?? allocation.AddQuota(toClusterId);
        // Capacity rows are locked in cluster-id order, as everywhere else, so concurrent grants and transfers cannot deadlock.
        foreach (var (cluster, delta) in new[] { (fromClusterId, -hours), (toClusterId, hours) }.OrderBy(x => x.Item1))
        {
            await capacity.CommitAsync(cluster, allocation.PeriodId, delta, cancellationToken);
        }
        var fromName = await ClusterNameAsync(fromClusterId, cancellationToken);
        var toName = await ClusterNameAsync(toClusterId, cancellationToken);
        Post(allocation.Id, from, LedgerEntryKind.TransferOut, -hours, now, now, $"Moved to {toName}: {reason.Trim()}", actor);
        Post(allocation.Id, to, LedgerEntryKind.TransferIn, hours, now, now, $"Moved from {fromName}: {reason.Trim()}", actor);
        var what = $"{hours.AsHours()} hours moved from {fromName} to {toName}";
        allocation.Note(now, actor, "transferred", $"{what}: {reason.Trim()}");
        ReactivateIfRefilled(allocation, actor, now);
        audit.Record(actor, "allocation.transferred", "allocation", allocation.Id.ToString(), $"{allocation.SlurmAccount}: {what}: {reason.Trim()}");
        return what;
    }

    private async Task RequireClusterAsync(Guid clusterId, CancellationToken cancellationToken)
    {
        if (!await db.Clusters.AnyAsync(c => c.Id == clusterId && c.Status != Clusters.ClusterStatus.Retired, cancellationToken))
        {
            throw new DomainException("Choose a cluster that is not retired.");
        }
    }

    private Task<string> ClusterNameAsync(Guid clusterId, CancellationToken cancellationToken) =>
        db.Clusters.Where(c => c.Id == clusterId).Select(c => c.Name).SingleAsync(cancellationToken);

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
        if (await HolderAsync(account, start, end, except, cancellationToken) is { } holder)
        {
            throw new DomainException(
                $"The Slurm account {account} is held by the allocation \"{holder.ProjectTitle}\" from {holder.StartDate:yyyy-MM-dd} to {holder.EndDate:yyyy-MM-dd}. " +
                "Another allocation of the same account (a renewal) must start after that one ends, or after it is closed.");
        }
    }

    /// <summary>The open allocation (other than <paramref name="except"/>) holding <paramref name="account"/> on a day between <paramref name="start"/> and <paramref name="end"/>, if any.</summary>
    private Task<AccountHolder?> HolderAsync(string account, DateOnly start, DateOnly end, Guid? except, CancellationToken cancellationToken) =>
        db.Allocations.AsNoTracking()
            .Where(a => a.SlurmAccount == account && a.Id != except && Allocation.OpenStates.Contains(a.State) && a.StartDate <= end && a.EndDate >= start)
            .Select(a => new AccountHolder(a.ProjectTitle, a.StartDate, a.EndDate))
            .FirstOrDefaultAsync(cancellationToken);

    private sealed record AccountHolder(string ProjectTitle, DateOnly StartDate, DateOnly EndDate);

    private async Task<SupplementRequest> LockRequestAsync(Guid requestId, CancellationToken cancellationToken) =>
        (await db.LockAsync<SupplementRequest>($"SELECT * FROM supplement_requests WHERE id = {requestId} FOR UPDATE", cancellationToken)).SingleOrDefault()
            ?? throw new DomainException("No such request.");

    internal void Post(Guid allocationId, AllocationQuota quota, LedgerEntryKind kind, decimal hours, DateTimeOffset effectiveAt, DateTimeOffset now, string cause, Guid? actor, string? usageJobId = null, Guid? supplementRequestId = null)
    {
        db.LedgerEntries.Add(new AllocationLedgerEntry(allocationId, quota.ClusterId, kind, hours, effectiveAt, now, cause, actor, usageJobId, supplementRequestId));
        quota.Apply(kind, hours);
    }

    private static void ReactivateIfRefilled(Allocation allocation, Guid? actor, DateTimeOffset now)
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

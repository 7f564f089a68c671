using System.Globalization;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// Every notice the allocation module sends, in one place, through the <see cref="Notifier"/> (in-app notice plus
/// mail or digest per the recipient's preferences), in the caller's unit of work.
/// </summary>
public sealed class AllocationNotices(PortalDbContext db, Notifier notifier)
{
    /// <summary>The allocation is active: at creation when it has started, else on its start date.</summary>
    public async Task ActiveAsync(Allocation allocation, CancellationToken cancellationToken)
    {
        var grants = allocation.Quotas.Where(q => q.GrantedHours > 0).OrderBy(q => q.ClusterId).Select(q => (q.ClusterId, Hours: q.GrantedHours)).ToList();
        var ids = grants.Select(g => g.ClusterId).ToList();
        var names = await db.Clusters.Where(c => ids.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        await SendAsync(allocation, NotificationKinds.AllocationActive, new()
        {
            ["hours"] = grants.Sum(g => g.Hours).AsHours(),
            ["cluster"] = string.Join(", ", grants.Select(g => $"{names.GetValueOrDefault(g.ClusterId, "?")} ({g.Hours.AsHours()})")),
            ["ends"] = allocation.EndDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        }, cancellationToken);
    }

    /// <summary>Asks <paramref name="inviteeId"/> to join: the notice links to their open invitations, where they answer.</summary>
    public async Task MemberInvitedAsync(Allocation allocation, Guid inviteeId, Guid inviterId, CancellationToken cancellationToken)
    {
        var inviter = await db.Users.Where(u => u.Id == inviterId).Select(u => u.FullName).SingleOrDefaultAsync(cancellationToken) ?? "The program";
        await notifier.NotifyAsync(inviteeId, NotificationKinds.AllocationMemberInvited, allocation.ProjectTitle, "/Allocations/Invitations",
            new Dictionary<string, string> { ["inviter"] = inviter, ["account"] = allocation.SlurmAccount }, cancellationToken);
    }

    public async Task ThresholdAsync(Allocation allocation, int percent, CancellationToken cancellationToken)
    {
        var remaining = await db.LedgerEntries.Where(e => e.AllocationId == allocation.Id).SumAsync(e => e.Hours, cancellationToken);
        await SendAsync(allocation, NotificationKinds.QuotaThreshold, new()
        {
            ["percent"] = percent.ToString(CultureInfo.InvariantCulture),
            ["remaining"] = Math.Max(0, remaining).AsHours(),
        }, cancellationToken);
    }

    public Task ProjectedShortAsync(Allocation allocation, DateTimeOffset exhaustion, CancellationToken cancellationToken) =>
        SendAsync(allocation, NotificationKinds.QuotaProjectedExhaustion, new()
        {
            ["date"] = exhaustion.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["ends"] = allocation.EndDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        }, cancellationToken);

    public Task ExpiringAsync(Allocation allocation, int days, CancellationToken cancellationToken) =>
        SendAsync(allocation, NotificationKinds.AllocationExpiring, new()
        {
            ["days"] = days.ToString(CultureInfo.InvariantCulture),
            ["ends"] = allocation.EndDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        }, cancellationToken);

    public Task IdleAsync(Allocation allocation, CancellationToken cancellationToken) =>
        SendAsync(allocation, NotificationKinds.AllocationIdle, new() { ["account"] = allocation.SlurmAccount }, cancellationToken);

    public Task ExpiredAsync(Allocation allocation, decimal expiredHours, CancellationToken cancellationToken) =>
        SendAsync(allocation, NotificationKinds.AllocationEnded, new()
        {
            ["account"] = allocation.SlurmAccount,
            ["ends"] = allocation.EndDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["expired"] = expiredHours.AsHours(),
        }, cancellationToken);

    public Task SupplementDecidedAsync(Allocation allocation, bool approved, string what, string? message, CancellationToken cancellationToken) =>
        SendAsync(allocation, NotificationKinds.SupplementDecided, new()
        {
            ["outcome"] = (approved ? $"approved: {what}" : $"declined ({what})") +
                (string.IsNullOrWhiteSpace(message) ? "" : $". Message from the program: {message.Trim()}"),
        }, cancellationToken);

    /// <summary>A notice about one of the allocation's reports (<c>report.*</c>): which report and when it is due.</summary>
    public Task ReportAsync(Allocation allocation, string kind, ProgressReport report, CancellationToken cancellationToken) =>
        SendAsync(allocation, kind, new()
        {
            ["report"] = ProgressReports.Describe(report.Kind),
            ["due"] = report.DueOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        }, cancellationToken);

    private async Task SendAsync(Allocation allocation, string kind, Dictionary<string, string> values, CancellationToken cancellationToken) =>
        await notifier.NotifyAsync(await TeamAsync(allocation, cancellationToken), kind, allocation.ProjectTitle, $"/Allocations/{allocation.Id}", values, cancellationToken);

    /// <summary>
    /// Who hears about an allocation: its active members (the PI included), the people who see it
    /// (<see cref="AllocationVisibility"/>). Members added in this unit of work are not saved yet, so they are read from
    /// the allocation itself.
    /// </summary>
    private async Task<IReadOnlyList<Guid>> TeamAsync(Allocation allocation, CancellationToken cancellationToken)
    {
        var saved = await db.AllocationMembers.Where(m => m.AllocationId == allocation.Id && m.Status == AllocationMemberStatus.Active)
            .Select(m => m.UserId).ToListAsync(cancellationToken);
        return [.. saved.Concat(allocation.Members.Where(m => m.IsActive).Select(m => m.UserId)).Append(allocation.PiUserId).Distinct()];
    }
}

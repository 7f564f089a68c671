using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Allocation;

/// <summary>
/// Every message the allocation module sends, in one place: today they go straight to the email outbox in the
/// caller's unit of work; when the notifications module (with preferences) lands, only this class changes.
/// </summary>
public sealed class AllocationNotices(PortalDbContext db, EmailOutbox outbox)
{
    public Task ThresholdAsync(Allocation allocation, int percent, CancellationToken cancellationToken) =>
        SendAsync(allocation, $"allocation.used-{percent}", $"{allocation.SlurmAccount}: {percent}% of the GPU-hours used",
            percent >= 100
                ? $"Your allocation \"{allocation.ProjectTitle}\" (Slurm account {allocation.SlurmAccount}) has used all of its GPU-hours. Ask for a supplement from the allocation's page if the project needs more."
                : $"Your allocation \"{allocation.ProjectTitle}\" (Slurm account {allocation.SlurmAccount}) has used {percent}% of its GPU-hours.",
            cancellationToken);

    public Task ProjectedShortAsync(Allocation allocation, DateTimeOffset exhaustion, CancellationToken cancellationToken) =>
        SendAsync(allocation, "allocation.projected-short", $"{allocation.SlurmAccount}: hours will run out early",
            $"At the pace of the last two weeks, the GPU-hours of \"{allocation.ProjectTitle}\" run out around {exhaustion:yyyy-MM-dd}, " +
            $"more than 30 days before the end date {allocation.EndDate:yyyy-MM-dd}. Plan accordingly or ask for a supplement.",
            cancellationToken);

    public Task IdleAsync(Allocation allocation, CancellationToken cancellationToken) =>
        SendAsync(allocation, "allocation.idle", $"{allocation.SlurmAccount}: no jobs for 30 days",
            $"No GPU usage was charged to \"{allocation.ProjectTitle}\" (Slurm account {allocation.SlurmAccount}) in the last 30 days. " +
            "If the project no longer needs its hours, tell the program so they can go to others.",
            cancellationToken);

    public Task ExpiredAsync(Allocation allocation, decimal expiredHours, CancellationToken cancellationToken) =>
        SendAsync(allocation, "allocation.expired", $"{allocation.SlurmAccount} has ended",
            $"Your allocation \"{allocation.ProjectTitle}\" reached its end date {allocation.EndDate:yyyy-MM-dd}; {expiredHours:N2} unused GPU-hours expired.",
            cancellationToken);

    public Task SupplementDecidedAsync(Allocation allocation, bool approved, string what, string? message, CancellationToken cancellationToken) =>
        SendAsync(allocation, approved ? "allocation.supplement-approved" : "allocation.supplement-declined",
            approved ? $"{allocation.SlurmAccount}: request approved" : $"{allocation.SlurmAccount}: request declined",
            (approved ? $"Approved: {what}." : $"Your request ({what}) was declined.") +
            (string.IsNullOrWhiteSpace(message) ? "" : $"\n\nMessage from the program: {message.Trim()}"),
            cancellationToken);

    private async Task SendAsync(Allocation allocation, string kind, string subject, string text, CancellationToken cancellationToken)
    {
        var email = await db.Users.Where(u => u.Id == allocation.PiUserId).Select(u => u.Email).SingleOrDefaultAsync(cancellationToken);
        if (email is not null)
        {
            outbox.Queue(kind, allocation.PiUserId, email, subject, text);
        }
    }
}

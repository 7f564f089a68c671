using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;

namespace Meta.ComputeAccess.Notifications;

/// <summary>What an admin does to the mail outbox.</summary>
public sealed class OutboxAdministration(PortalDbContext db, AuditLog audit, TimeProvider clock)
{
    /// <summary>Queues a failed or stuck message to be tried again now (audited); false when there is no such message.</summary>
    public async Task<bool> ResendAsync(Guid adminId, Guid messageId, CancellationToken cancellationToken = default)
    {
        if (await db.OutboxMessages.FindAsync([messageId], cancellationToken) is not { } message)
        {
            return false;
        }
        message.Resend(clock.GetUtcNow());
        audit.Record(adminId, "outbox.resend", "outbox_message", messageId.ToString(), $"Queued message '{message.Subject}' to be sent again");
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }
}

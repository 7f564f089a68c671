using Meta.ComputeAccess.Data;

namespace Meta.ComputeAccess.Audit;

/// <summary>
/// Adds audit entries to the caller's unit of work: the entry is saved by the same SaveChanges, in the same
/// transaction, as the change it describes, so an action is never recorded without happening or the reverse.
/// </summary>
public sealed class AuditLog(PortalDbContext db, TimeProvider clock)
{
    public void Record(Guid? actor, string action, string subjectType, string subjectId, string summary) =>
        db.AuditEntries.Add(AuditEntry.Create(clock.GetUtcNow(), actor, action, subjectType, subjectId, summary));
}

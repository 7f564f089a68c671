using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Data;

/// <summary>
/// Locks rows and loads them in the same statement (<c>SELECT … FOR UPDATE</c>), tracked with the values just read.
/// A plain tracked query would hand back an instance the context already tracked with its old values (identity
/// resolution), which is why callers used to reload each row after locking it: here the locked values are copied
/// onto such an instance instead, so a lock costs one query whatever the context held before.
/// </summary>
internal static class RowLocks
{
    /// <param name="lockingSql">A complete <c>SELECT * FROM … FOR UPDATE</c> of <typeparamref name="T"/>'s table.</param>
    public static async Task<List<T>> LockAsync<T>(this PortalDbContext db, FormattableString lockingSql, CancellationToken cancellationToken)
        where T : class
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A row lock lasts as long as the caller's transaction; open one first.");
        }
        var set = db.Set<T>();
        var rows = await set.FromSql(lockingSql).AsNoTracking().ToListAsync(cancellationToken);
        var key = db.Model.FindEntityType(typeof(T))!.FindPrimaryKey()!;
        for (var i = 0; i < rows.Count; i++)
        {
            var fresh = db.Entry(rows[i]);
            var tracked = set.Local.FindEntryUntyped(key.Properties.Select(p => fresh.Property(p.Name).CurrentValue));
            if (tracked is null)
            {
                fresh.State = EntityState.Unchanged;
                continue;
            }
            tracked.CurrentValues.SetValues(rows[i]);
            tracked.OriginalValues.SetValues(rows[i]);
            tracked.State = EntityState.Unchanged;
            rows[i] = tracked.Entity;
        }
        return rows;
    }
}

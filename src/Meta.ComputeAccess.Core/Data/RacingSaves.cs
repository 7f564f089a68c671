using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Meta.ComputeAccess.Data;

public static class RacingSaves
{
    /// <summary>
    /// Saves the unit of work. A save that lost a race with someone else's (a row it changes was changed or removed
    /// meanwhile, or a unique key it writes was just taken) is refused with <paramref name="conflict"/>, a message for
    /// the person, instead of failing the request; nothing is saved.
    /// </summary>
    public static Task SaveChangesOrRefuseAsync(this PortalDbContext db, string conflict, CancellationToken cancellationToken) =>
        RefusingLostRacesAsync(() => db.SaveChangesAsync(cancellationToken), conflict);

    /// <summary>
    /// Runs <paramref name="work"/>, which saves through something other than the caller (Identity's UserManager saves
    /// each of its steps), and refuses it with <paramref name="conflict"/> when one of its saves lost a race.
    /// </summary>
    public static async Task<T> RefusingLostRacesAsync<T>(Func<Task<T>> work, string conflict)
    {
        try
        {
            return await work();
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new DomainException(conflict);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            throw new DomainException(conflict);
        }
    }
}

using Meta.ComputeAccess.Data;

namespace Meta.ComputeAccess.Review;

/// <summary>How every write method of the review module saves (ADR 0005): its change commits whole or not at all.</summary>
internal static class ReviewSaving
{
    /// <summary>The refusal when a save lost a race with someone else's (<see cref="RacingSaves"/>).</summary>
    public const string Conflict = "Someone else changed the same thing at the same moment; reload the page and try again.";

    /// <summary>
    /// Runs <paramref name="work"/> and saves what it changed in one transaction (the caller's, if one is open, as when the
    /// award planner records several decisions). Two people changing the same rows at the same moment is a refusal to try
    /// again, never an error page.
    /// </summary>
    public static Task<T> SaveAsync<T>(this PortalDbContext db, Func<Task<T>> work, CancellationToken cancellationToken) =>
        db.SaveAsync(work, Conflict, cancellationToken);

    /// <param name="conflict">The refusal when the save lost a race, where a more precise one fits.</param>
    public static async Task<T> SaveAsync<T>(this PortalDbContext db, Func<Task<T>> work, string conflict, CancellationToken cancellationToken)
    {
        await using var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        var result = await work();
        await db.SaveChangesOrRefuseAsync(conflict, cancellationToken);
        if (own is not null)
        {
            await own.CommitAsync(cancellationToken);
        }
        return result;
    }

    public static Task SaveAsync(this PortalDbContext db, Func<Task> work, CancellationToken cancellationToken) =>
        db.SaveAsync(work, Conflict, cancellationToken);

    public static Task SaveAsync(this PortalDbContext db, Func<Task> work, string conflict, CancellationToken cancellationToken) =>
        db.SaveAsync(async () =>
        {
            await work();
            return true;
        }, conflict, cancellationToken);
}

using System.Data.Common;
using System.Runtime.CompilerServices;
using Meta.ComputeAccess.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Testing;

/// <summary>
/// Counts the SQL commands each DbContext sends (queries, and each batch SaveChanges sends), so a test can check that
/// an action's round trips do not grow with its size: an N+1 fails such a test, whatever the machine's speed.
/// </summary>
public sealed class SqlCommandCounter : DbCommandInterceptor
{
    private readonly ConditionalWeakTable<DbContext, StrongBox<int>> counts = [];

    private readonly ConditionalWeakTable<DbContext, List<string>> texts = [];

    private int total;

    /// <summary>
    /// Every command any DbContext has sent so far: the difference around one request is what the request cost in
    /// round trips (sign-in checks included), as long as nothing else runs meanwhile (jobs are not served in tests).
    /// </summary>
    public int Total
    {
        get
        {
            lock (all)
            {
                return total;
            }
        }
    }

    private readonly List<string> all = [];

    /// <summary>The SQL of every command since <see cref="Total"/> read <paramref name="mark"/>: to say what a page sent too many of.</summary>
    public IReadOnlyList<string> SentSince(int mark)
    {
        lock (all)
        {
            return [.. all.Skip(mark)];
        }
    }

    /// <summary>How many commands <paramref name="context"/> has sent so far.</summary>
    public int CountOf(DbContext context) => counts.TryGetValue(context, out var count) ? Volatile.Read(ref count.Value) : 0;

    /// <summary>The SQL <paramref name="context"/> has sent so far, in order: to check what a query reads, not only how often.</summary>
    public IReadOnlyList<string> TextsOf(DbContext context)
    {
        if (!texts.TryGetValue(context, out var sent))
        {
            return [];
        }
        lock (sent)
        {
            return [.. sent];
        }
    }

    /// <summary>Runs <paramref name="action"/> in a fresh scope and returns how many commands the scope's DbContext sent.</summary>
    public async Task<int> CountAsync(PortalFactory factory, Func<IServiceProvider, Task> action)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(action);
        return await factory.WithScopeAsync(async sp =>
        {
            await action(sp);
            return CountOf(sp.GetRequiredService<PortalDbContext>());
        });
    }

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result) =>
        Counted(command, eventData, result);

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Counted(command, eventData, result));

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result) =>
        Counted(command, eventData, result);

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Counted(command, eventData, result));

    public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result) =>
        Counted(command, eventData, result);

    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Counted(command, eventData, result));

    private T Counted<T>(DbCommand command, CommandEventData eventData, T result)
    {
        lock (all)
        {
            all.Add(command.CommandText);
            total++;
        }
        if (eventData.Context is { } context)
        {
            Interlocked.Increment(ref counts.GetValue(context, _ => new StrongBox<int>()).Value);
            var sent = texts.GetValue(context, _ => []);
            lock (sent)
            {
                sent.Add(command.CommandText);
            }
        }
        return result;
    }
}

/// <summary>The portal with a <see cref="SqlCommandCounter"/> on every DbContext it creates (a fixture may derive to add data).</summary>
public class CommandCountingPortalFactory : PortalFactory
{
    public SqlCommandCounter Commands { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.ConfigureDbContext<PortalDbContext>(o => o.AddInterceptors(Commands)));
    }
}

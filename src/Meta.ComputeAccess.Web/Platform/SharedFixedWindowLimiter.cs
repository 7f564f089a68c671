using System.Threading.RateLimiting;
using Meta.ComputeAccess.Identity;

namespace Meta.ComputeAccess.Web.Platform;

/// <summary>
/// A fixed-window limiter for one client whose count lives in PostgreSQL (<see cref="RateLimitWindows"/>), so the
/// limit holds across every portal instance behind the proxy. The synchronous attempt never decides: the
/// rate-limiting middleware then awaits <see cref="AcquireAsyncCore"/>, which counts with one statement.
/// </summary>
internal sealed class SharedFixedWindowLimiter(IServiceScopeFactory scopes, TimeProvider clock, string clientKey, int permitLimit, TimeSpan window)
    : RateLimiter
{
    private long lastUsed = clock.GetTimestamp();

    public override TimeSpan? IdleDuration => clock.GetElapsedTime(Interlocked.Read(ref lastUsed));

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Lease.Undecided;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref lastUsed, clock.GetTimestamp());
        var now = clock.GetUtcNow();
        var endsAt = RateLimitWindow.WindowEnd(now, window);
        await using var scope = scopes.CreateAsyncScope();
        var count = await scope.ServiceProvider.GetRequiredService<RateLimitWindows>().CountAsync(clientKey, endsAt, permitCount, cancellationToken);
        return count <= permitLimit ? Lease.Granted : new Lease(false, endsAt - now);
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(true, null);

        /// <summary>"Not yet": the middleware's cue to call the asynchronous path.</summary>
        public static readonly Lease Undecided = new(false, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter is { } after && metadataName == MetadataName.RetryAfter.Name ? after : null;
            return metadata is not null;
        }
    }
}

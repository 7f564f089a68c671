namespace Meta.ComputeAccess.Identity;

/// <summary>
/// One fixed window of a rate limit shared by every portal instance: how many requests one client (its key,
/// e.g. <c>accounts|203.0.113.10</c>) made in the window that ends at <see cref="EndsAt"/>. Counted in PostgreSQL so a
/// client cannot multiply its allowance by the number of instances behind the proxy.
/// </summary>
public sealed class RateLimitWindow
{
    public const int KeyMaxLength = 128;

    public string ClientKey { get; private set; } = "";

    public DateTimeOffset EndsAt { get; private set; }

    public int Count { get; private set; }

    private RateLimitWindow()
    {
    }

    /// <summary>The end of the fixed window of length <paramref name="window"/> that holds <paramref name="now"/> (windows align to the Unix epoch).</summary>
    public static DateTimeOffset WindowEnd(DateTimeOffset now, TimeSpan window) =>
        DateTimeOffset.UnixEpoch.AddTicks(((now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / window.Ticks + 1) * window.Ticks);
}

using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Pages.Dashboard;

/// <summary>When the admin dashboard's counts are kept instead of recounted on every visit (section <c>AdminDashboard</c>).</summary>
public sealed class AdminDashboardOptions
{
    public const string Section = "AdminDashboard";

    /// <summary>
    /// Counts are kept once the call queues hold at least this many proposals: below it they cost less than the page
    /// and every visit counts (docs/performance.md, "The bell in the signed-in check, and the admin dashboard's counts kept").
    /// </summary>
    public int KeepFromQueuedProposals { get; set; } = 2_000;

    /// <summary>How long kept counts are shown before the next visit counts again.</summary>
    public TimeSpan KeepFor { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// The admin dashboard's last counts, per instance, for a program large enough that counting its queues costs more than
/// the page (<see cref="AdminDashboardOptions"/>); a small program is counted on every visit. Every admin sees the same
/// dashboard (the queues count submitted proposals, which every admin sees; drafts, the one difference between admins'
/// scopes, are in no queue), so one entry serves them all. Kept counts show when they were made. When they are due, one
/// request counts again while the others are shown the last counts, instead of all counting at once.
/// </summary>
public sealed class AdminDashboardCache(IOptions<AdminDashboardOptions> options, TimeProvider clock)
{
    private sealed record Entry(AdminDashboard Dashboard, DateTimeOffset At);

    private readonly SemaphoreSlim counting = new(1, 1);

    private Entry? last;

    public async Task<AdminDashboard> GetAsync(Func<Task<AdminDashboard>> count)
    {
        var now = clock.GetUtcNow();
        var kept = Volatile.Read(ref last);
        if (kept is not null && now - kept.At < options.Value.KeepFor)
        {
            return kept.Dashboard with { CountedAt = kept.At };
        }
        var counter = await counting.WaitAsync(0);
        if (!counter && kept is not null)
        {
            return kept.Dashboard with { CountedAt = kept.At };
        }
        try
        {
            var dashboard = await count();
            Volatile.Write(ref last, dashboard.QueuedProposals >= options.Value.KeepFromQueuedProposals ? new Entry(dashboard, now) : null);
            return dashboard;
        }
        finally
        {
            if (counter)
            {
                counting.Release();
            }
        }
    }
}

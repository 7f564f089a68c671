using Meta.ComputeAccess.Usage;

namespace Meta.ComputeAccess.Core.Tests.Usage;

public sealed class AllocationMatcherTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static Meta.ComputeAccess.Allocations.Allocation Allocation(string account, string start, string end) =>
        Meta.ComputeAccess.Allocations.Allocation.Create(Guid.NewGuid(), Guid.NewGuid(), "Project " + account, account, DateOnly.Parse(start, System.Globalization.CultureInfo.InvariantCulture),
            DateOnly.Parse(end, System.Globalization.CultureInfo.InvariantCulture), null, null, Now);

    private static DateTimeOffset Utc(string time) => DateTimeOffset.Parse(time + "Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void A_job_is_charged_to_the_allocation_whose_utc_period_holds_its_end()
    {
        var first = Allocation("acct", "2026-03-01", "2026-03-31");
        var matcher = AllocationMatcher.For([first]);

        Assert.Equal(first.Id, matcher.Match("acct", Utc("2026-03-01T00:00:00"), out _));
        Assert.Equal(first.Id, matcher.Match("acct", Utc("2026-03-31T23:59:59"), out _));
        Assert.Null(matcher.Match("acct", Utc("2026-02-28T23:59:59"), out var before));
        Assert.Equal(UnmatchedReason.EndedBeforeStart, before);
        Assert.Null(matcher.Match("acct", Utc("2026-04-01T00:00:00"), out var after));
        Assert.Equal(UnmatchedReason.EndedAfterEnd, after);
        Assert.Null(matcher.Match("other", Utc("2026-03-15T00:00:00"), out var unknown));
        Assert.Equal(UnmatchedReason.UnknownAccount, unknown);
    }

    [Fact]
    public void Of_two_allocations_of_one_account_each_pays_for_the_jobs_ending_in_its_own_period()
    {
        var spring = Allocation("acct", "2026-03-01", "2026-05-31");
        var autumn = Allocation("acct", "2026-09-01", "2026-11-30");
        var matcher = AllocationMatcher.For([autumn, spring]);

        Assert.Equal(spring.Id, matcher.Match("acct", Utc("2026-05-31T12:00:00"), out _));
        Assert.Equal(autumn.Id, matcher.Match("acct", Utc("2026-09-01T12:00:00"), out _));
        Assert.Null(matcher.Match("acct", Utc("2026-07-01T12:00:00"), out var between));
        Assert.Equal(UnmatchedReason.EndedAfterEnd, between);
    }

    [Fact]
    public void A_job_ending_in_the_period_of_a_closed_allocation_is_not_charged()
    {
        var closed = Allocation("acct", "2026-03-01", "2026-03-31");
        closed.Close(Now, null, "Project stopped");

        Assert.Null(AllocationMatcher.For([closed]).Match("acct", Utc("2026-03-15T00:00:00"), out var reason));
        Assert.Equal(UnmatchedReason.AllocationClosed, reason);
    }
}

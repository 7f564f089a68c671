using Meta.ComputeAccess.Allocations;

namespace Meta.ComputeAccess.Core.Tests.Allocation;

public sealed class QuotaLedgerTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset End = new(2026, 8, 28, 0, 0, 0, TimeSpan.Zero); // 180 days

    private static LedgerEntry Entry(int day, string cluster, LedgerEntryKind kind, decimal hours) =>
        new(Start.AddDays(day), cluster, kind, hours);

    private static readonly LedgerEntry[] History =
    [
        Entry(0, "gt", LedgerEntryKind.Grant, 1000m),
        Entry(0, "mtia", LedgerEntryKind.Grant, 400m),
        Entry(3, "gt", LedgerEntryKind.Usage, -120.5m),
        Entry(5, "mtia", LedgerEntryKind.Usage, -40m),
        Entry(10, "gt", LedgerEntryKind.Supplement, 250m),
        Entry(12, "mtia", LedgerEntryKind.TransferOut, -100m),
        Entry(12, "gt", LedgerEntryKind.TransferIn, 100m),
        Entry(15, "gt", LedgerEntryKind.Adjustment, 20.5m),
        Entry(16, "gt", LedgerEntryKind.Usage, -300m),
    ];

    [Fact]
    public void Balances_add_grants_supplements_transfers_and_adjustments_and_subtract_usage()
    {
        var balances = QuotaLedger.Balances(History);

        Assert.Equal(["gt", "mtia"], balances.Select(b => b.ClusterId));
        var gt = balances[0];
        Assert.Equal((1370.5m, 420.5m, 950m), (gt.Granted, gt.Used, gt.Remaining));
        var mtia = balances[1];
        Assert.Equal((300m, 40m, 260m), (mtia.Granted, mtia.Used, mtia.Remaining));
        Assert.Equal(100m, mtia.TransfersOut);
    }

    [Fact]
    public void A_transfer_moves_hours_between_clusters_without_changing_the_allocation_total()
    {
        var withoutTransfer = History.Where(e => e.Kind is not (LedgerEntryKind.TransferIn or LedgerEntryKind.TransferOut));

        var before = QuotaLedger.Balance(withoutTransfer, clusterId: null);
        var after = QuotaLedger.Balance(History, clusterId: null);

        Assert.Equal(before.Remaining, after.Remaining);
        Assert.Equal(1210m, after.Remaining);
        Assert.Equal(after.Remaining, QuotaLedger.Balance(History, "gt").Remaining + QuotaLedger.Balance(History, "mtia").Remaining);
    }

    [Fact]
    public void Expiry_writes_off_the_remainder_without_counting_as_usage()
    {
        var expired = History.Append(new LedgerEntry(End, "gt", LedgerEntryKind.Expiry, -950m));

        var gt = QuotaLedger.Balance(expired, "gt");

        Assert.Equal((0m, 420.5m, 950m), (gt.Remaining, gt.Used, gt.Expired));
    }

    [Fact]
    public void Entries_after_the_as_of_time_are_not_counted()
    {
        var gt = QuotaLedger.Balance(History, "gt", asOf: Start.AddDays(10));

        Assert.Equal((1250m, 120.5m, 1129.5m), (gt.Granted, gt.Used, gt.Remaining));
    }

    [Fact]
    public void Usage_beyond_the_quota_shows_as_a_negative_remainder()
    {
        var overdrawn = QuotaLedger.Balance([Entry(0, "gt", LedgerEntryKind.Grant, 100m), Entry(1, "gt", LedgerEntryKind.Usage, -130m)], "gt");

        Assert.Equal(-30m, overdrawn.Remaining);
        Assert.Equal(1.3m, overdrawn.UsedFraction);
    }

    [Theory]
    [InlineData(LedgerEntryKind.Grant, -1)]
    [InlineData(LedgerEntryKind.Usage, 5)]
    [InlineData(LedgerEntryKind.TransferOut, 5)]
    [InlineData(LedgerEntryKind.Expiry, 5)]
    public void An_entry_whose_sign_contradicts_its_kind_is_refused(LedgerEntryKind kind, int hours)
    {
        var error = Assert.Throws<ArgumentException>(() => QuotaLedger.Balances([Entry(1, "gt", kind, hours)]));

        Assert.Contains("wrong sign", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Exhaustion_is_projected_at_the_pace_of_the_last_two_weeks()
    {
        var now = Start.AddDays(60);
        var entries = new List<LedgerEntry> { Entry(0, "gt", LedgerEntryKind.Grant, 1000m) };
        // A slow first month, then 20 h a day for the last 14 days.
        entries.Add(Entry(20, "gt", LedgerEntryKind.Usage, -100m));
        for (var day = 47; day <= 60; day++)
        {
            entries.Add(Entry(day, "gt", LedgerEntryKind.Usage, -20m));
        }

        var projection = QuotaLedger.Project(entries, "gt", Start, End, now);

        Assert.Equal(620m, projection.Remaining);
        Assert.Equal(20m, projection.PacePerDay);
        Assert.Equal(now.AddDays(31), projection.ProjectedExhaustion);
        Assert.Equal(TimeSpan.FromDays(89), projection.ShortOfEnd);
        Assert.Equal(620m / 120m, projection.RequiredPacePerDay);
    }

    [Fact]
    public void An_allocation_idle_for_the_pace_window_has_no_projected_exhaustion()
    {
        var projection = QuotaLedger.Project(
            [Entry(0, "gt", LedgerEntryKind.Grant, 1000m), Entry(2, "gt", LedgerEntryKind.Usage, -900m)], "gt", Start, End, Start.AddDays(30));

        Assert.Equal(0m, projection.PacePerDay);
        Assert.Null(projection.ProjectedExhaustion);
        Assert.Null(projection.ShortOfEnd);
    }

    [Fact]
    public void A_young_allocation_measures_its_pace_since_the_start()
    {
        var projection = QuotaLedger.Project(
            [Entry(0, "gt", LedgerEntryKind.Grant, 1000m), Entry(1, "gt", LedgerEntryKind.Usage, -100m)], "gt", Start, End, Start.AddDays(4));

        Assert.Equal(25m, projection.PacePerDay);
        Assert.Equal(Start.AddDays(4 + 36), projection.ProjectedExhaustion);
    }

    [Fact]
    public void An_exhausted_allocation_is_projected_to_run_out_now()
    {
        var now = Start.AddDays(5);

        var projection = QuotaLedger.Project(
            [Entry(0, "gt", LedgerEntryKind.Grant, 100m), Entry(1, "gt", LedgerEntryKind.Usage, -100m)], "gt", Start, End, now);

        Assert.True(projection.IsExhausted);
        Assert.Equal(now, projection.ProjectedExhaustion);
        Assert.Equal(0m, projection.RequiredPacePerDay);
    }

    [Fact]
    public void Burn_down_accumulates_usage_per_day_against_a_straight_ideal_line()
    {
        var start = Start;
        var end = Start.AddDays(10);
        LedgerEntry[] entries =
        [
            new(start, "gt", LedgerEntryKind.Grant, 1000m),
            new(start.AddHours(5), "gt", LedgerEntryKind.Usage, -30m),
            new(start.AddHours(23), "gt", LedgerEntryKind.Usage, -20m),
            new(start.AddDays(2).AddHours(1), "gt", LedgerEntryKind.Usage, -100m),
            new(start.AddDays(2).AddHours(2), "mtia", LedgerEntryKind.Usage, -999m),
        ];

        var points = QuotaLedger.BurnDown(entries, "gt", start, end, now: start.AddDays(3).AddHours(12));

        // Ten days, 1 to 10 March: the exclusive end (midnight after the 10th) is not a day of its own.
        Assert.Equal(10, points.Count);
        Assert.Equal([50m, 50m, 150m, 150m, null, null], points.Take(6).Select(p => p.Used));
        Assert.Equal([100m, 200m, 300m], points.Take(3).Select(p => p.Ideal));
        Assert.Equal(1000m, points[9].Ideal);
        Assert.Equal(new DateOnly(2026, 3, 1), points[0].Date);
        Assert.Equal(new DateOnly(2026, 3, 10), points[^1].Date);
    }

    [Fact]
    public void Burn_down_days_follow_the_viewers_time_zone()
    {
        var losAngeles = TimeZoneInfo.FindSystemTimeZoneById("America/Los_Angeles");
        var start = new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero); // midnight in Los Angeles
        LedgerEntry[] entries =
        [
            new(start, "gt", LedgerEntryKind.Grant, 100m),
            // 02:00 UTC on 2 March is still 1 March in Los Angeles.
            new(new DateTimeOffset(2026, 3, 2, 2, 0, 0, TimeSpan.Zero), "gt", LedgerEntryKind.Usage, -10m),
        ];

        var points = QuotaLedger.BurnDown(entries, "gt", start, start.AddDays(5), now: start.AddDays(2), zone: losAngeles);

        Assert.Equal(new DateOnly(2026, 3, 1), points[0].Date);
        Assert.Equal(10m, points[0].Used);
    }
}

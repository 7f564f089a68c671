namespace Meta.ComputeAccess.Allocations;

public enum LedgerEntryKind
{
    /// <summary>The award's hours on a cluster. Positive.</summary>
    Grant,

    /// <summary>Hours charged for finished jobs. Negative (zero for a job without GPUs).</summary>
    Usage,

    /// <summary>Extra hours approved on a supplement request. Positive.</summary>
    Supplement,

    /// <summary>Hours moved here from another cluster of the same allocation. Positive.</summary>
    TransferIn,

    /// <summary>Hours moved from here to another cluster of the same allocation. Negative.</summary>
    TransferOut,

    /// <summary>An admin's correction with a reason, e.g. a refund for a node failure. Either sign.</summary>
    Adjustment,

    /// <summary>The remainder written off at the end date. Negative.</summary>
    Expiry,

    /// <summary>A later tranche of the award entering the quota (committed in capacity since the grant). Positive.</summary>
    TrancheRelease,

    /// <summary>Hours advanced against a renewal not yet decided, to be deducted from its award. Positive.</summary>
    Advance,

    /// <summary>An advance taken back from the award it was advanced against. Negative.</summary>
    AdvanceDeduction,
}

/// <summary>
/// One row of an allocation's append-only ledger.
/// </summary>
/// <param name="Hours">
/// The signed change to the cluster's remaining balance, so that a balance is the plain sum of its entries
/// (what a SQL <c>sum(hours)</c> gives): Grant, Supplement and TransferIn are ≥ 0; Usage, TransferOut and
/// Expiry are ≤ 0; Adjustment is either. A transfer is two entries, TransferOut on one cluster and
/// TransferIn on the other, so every row belongs to exactly one cluster.
/// </param>
/// <param name="At">When the entry takes effect: a job's end time for usage.</param>
public sealed record LedgerEntry(DateTimeOffset At, string ClusterId, LedgerEntryKind Kind, decimal Hours, string? Cause = null);

/// <summary>A cluster's balance, every figure as a positive amount of hours (except <see cref="Adjustments"/> and <see cref="Remaining"/>).</summary>
public sealed record LedgerBalance(
    string ClusterId,
    decimal Grants,
    decimal Supplements,
    decimal TransfersIn,
    decimal TransfersOut,
    decimal Adjustments,
    decimal Used,
    decimal Expired)
{
    /// <summary>Later tranches released into the quota.</summary>
    public decimal TrancheReleases { get; init; }

    /// <summary>Hours advanced against a renewal.</summary>
    public decimal Advances { get; init; }

    /// <summary>Advances deducted from this award.</summary>
    public decimal AdvanceDeductions { get; init; }

    /// <summary>
    /// What the allocation may use on this cluster, the hours released: grants, supplements, net transfers, adjustments,
    /// released tranches and advances, less advances deducted. Tranches not yet released are not in the ledger.
    /// </summary>
    public decimal Granted => Grants + Supplements + TransfersIn - TransfersOut + Adjustments + TrancheReleases + Advances - AdvanceDeductions;

    /// <summary>Granted − used − expired; negative when jobs overran the quota before Slurm's limit caught up.</summary>
    public decimal Remaining => Granted - Used - Expired;

    /// <summary>Used ÷ granted (0 when nothing is granted), for the 50/80/100 % notices.</summary>
    public decimal UsedFraction => Granted > 0 ? Used / Granted : 0m;
}

/// <summary>Where usage is heading.</summary>
/// <param name="PacePerDay">GPU-hours used per day over the pace window (see <see cref="QuotaLedger.Project"/>).</param>
/// <param name="ProjectedExhaustion">
/// When the remainder runs out at that pace; the as-of time if it already has; null when the pace is zero.
/// </param>
/// <param name="RequiredPacePerDay">The straight-line pace that uses the remainder exactly by the end date.</param>
public sealed record UsageProjection(
    decimal Remaining,
    decimal PacePerDay,
    DateTimeOffset? ProjectedExhaustion,
    decimal RequiredPacePerDay,
    DateTimeOffset End)
{
    public bool IsExhausted => Remaining <= 0;

    /// <summary>How long before the end date the hours run out at the current pace; null if they last.</summary>
    public TimeSpan? ShortOfEnd => ProjectedExhaustion is { } at && at < End ? End - at : null;
}

/// <summary>One day of a burn-down chart.</summary>
/// <param name="Used">Cumulative GPU-hours used by the end of the day; null for days still to come.</param>
/// <param name="Ideal">The straight line from nothing used at the start to everything granted (released or held in a later tranche) at the end date.</param>
public sealed record BurnDownPoint(DateOnly Date, decimal? Used, decimal Ideal)
{
    /// <summary>Hours released into the quota by the end of the day (grants, supplements, released tranches, advances, …); null for days still to come.</summary>
    public decimal? Released { get; init; }

    /// <summary>Everything granted, released or not: the released hours now plus the tranches still held.</summary>
    public decimal Granted { get; init; }
}

/// <summary>Pure arithmetic over ledger entries: balances, projection, burn-down. Nothing here reads a clock.</summary>
public static class QuotaLedger
{
    private static readonly int KindCount = Enum.GetValues<LedgerEntryKind>().Length;

    /// <summary>The default pace window of <see cref="Project"/>.</summary>
    public static readonly TimeSpan DefaultPaceWindow = TimeSpan.FromDays(14);

    /// <summary>Per-cluster balances from the entries up to and including <paramref name="asOf"/> (all when null), ordered by cluster id.</summary>
    /// <exception cref="ArgumentException">An entry's sign contradicts its kind.</exception>
    public static IReadOnlyList<LedgerBalance> Balances(IEnumerable<LedgerEntry> entries, DateTimeOffset? asOf = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var sums = new SortedDictionary<string, decimal[]>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            CheckSign(entry);
            if (asOf is { } limit && entry.At > limit)
            {
                continue;
            }
            if (!sums.TryGetValue(entry.ClusterId, out var byKind))
            {
                sums[entry.ClusterId] = byKind = new decimal[KindCount];
            }
            byKind[(int)entry.Kind] += entry.Hours;
        }
        return sums.Select(s => new LedgerBalance(
            s.Key,
            Grants: s.Value[(int)LedgerEntryKind.Grant],
            Supplements: s.Value[(int)LedgerEntryKind.Supplement],
            TransfersIn: s.Value[(int)LedgerEntryKind.TransferIn],
            TransfersOut: -s.Value[(int)LedgerEntryKind.TransferOut],
            Adjustments: s.Value[(int)LedgerEntryKind.Adjustment],
            Used: -s.Value[(int)LedgerEntryKind.Usage],
            Expired: -s.Value[(int)LedgerEntryKind.Expiry])
        {
            TrancheReleases = s.Value[(int)LedgerEntryKind.TrancheRelease],
            Advances = s.Value[(int)LedgerEntryKind.Advance],
            AdvanceDeductions = -s.Value[(int)LedgerEntryKind.AdvanceDeduction],
        }).ToList();
    }

    /// <summary>The balance of one cluster, or of the whole allocation when <paramref name="clusterId"/> is null.</summary>
    public static LedgerBalance Balance(IEnumerable<LedgerEntry> entries, string? clusterId, DateTimeOffset? asOf = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var balances = Balances(clusterId is null ? entries : entries.Where(e => e.ClusterId == clusterId), asOf);
        var zero = new LedgerBalance(clusterId ?? "*", 0, 0, 0, 0, 0, 0, 0);
        return balances.Aggregate(zero, (a, b) => a with
        {
            Grants = a.Grants + b.Grants,
            Supplements = a.Supplements + b.Supplements,
            TransfersIn = a.TransfersIn + b.TransfersIn,
            TransfersOut = a.TransfersOut + b.TransfersOut,
            Adjustments = a.Adjustments + b.Adjustments,
            Used = a.Used + b.Used,
            Expired = a.Expired + b.Expired,
            TrancheReleases = a.TrancheReleases + b.TrancheReleases,
            Advances = a.Advances + b.Advances,
            AdvanceDeductions = a.AdvanceDeductions + b.AdvanceDeductions,
        });
    }

    /// <summary>
    /// Projects exhaustion of one cluster (or the whole allocation when <paramref name="clusterId"/> is null).
    /// </summary>
    /// <remarks>
    /// The pace is the usage of the last <paramref name="paceWindow"/> (default 14 days) divided by the window,
    /// not the average since the start: projects ramp up, and a PI who started running in earnest last week
    /// will run out at this week's pace. Two weeks smooth out weekends and single big jobs. Until the
    /// allocation is that old, the window is the time since its start.
    /// </remarks>
    public static UsageProjection Project(
        IEnumerable<LedgerEntry> entries,
        string? clusterId,
        DateTimeOffset start,
        DateTimeOffset end,
        DateTimeOffset now,
        TimeSpan? paceWindow = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var window = paceWindow ?? DefaultPaceWindow;
        if (window <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(paceWindow), "The pace window must be positive.");
        }
        var selected = entries.Where(e => clusterId is null || e.ClusterId == clusterId).ToList();
        var remaining = Balance(selected, clusterId, now).Remaining;

        var windowStart = now - window < start ? start : now - window;
        var windowDays = (decimal)(now - windowStart).Ticks / TimeSpan.TicksPerDay;
        var usedInWindow = -selected.Where(e => e.Kind == LedgerEntryKind.Usage && e.At > windowStart && e.At <= now).Sum(e => e.Hours);
        var pace = windowDays > 0 ? usedInWindow / windowDays : 0m;

        DateTimeOffset? exhaustion = null;
        if (remaining <= 0)
        {
            exhaustion = now;
        }
        else if (pace > 0)
        {
            var ticks = remaining / pace * TimeSpan.TicksPerDay;
            if (ticks < DateTimeOffset.MaxValue.UtcTicks - now.UtcTicks)
            {
                exhaustion = now.AddTicks((long)ticks);
            }
        }

        var daysLeft = (decimal)(end - now).Ticks / TimeSpan.TicksPerDay;
        var required = remaining <= 0 ? 0m : daysLeft > 0 ? remaining / daysLeft : remaining;
        return new UsageProjection(remaining, pace, exhaustion, required, end);
    }

    /// <summary>
    /// A daily burn-down from the start date to the end date (the day before the exclusive <paramref name="end"/>), days
    /// being calendar days in <paramref name="zone"/> (the viewer's; UTC when null). Used and released are filled up to
    /// the day containing <paramref name="now"/>; <paramref name="held"/> is what later tranches still hold back (granted, not released).
    /// </summary>
    public static IReadOnlyList<BurnDownPoint> BurnDown(
        IEnumerable<LedgerEntry> entries,
        string? clusterId,
        DateTimeOffset start,
        DateTimeOffset end,
        DateTimeOffset now,
        TimeZoneInfo? zone = null,
        decimal held = 0m)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (end <= start)
        {
            throw new ArgumentException("The end date must be after the start date.", nameof(end));
        }
        zone ??= TimeZoneInfo.Utc;
        var selected = entries.Where(e => clusterId is null || e.ClusterId == clusterId).ToList();
        var granted = Balance(selected, clusterId, now).Granted + held;
        var usage = selected.Where(e => e.Kind == LedgerEntryKind.Usage && e.At <= now).OrderBy(e => e.At).ToList();
        var releases = selected.Where(e => e.Kind is not (LedgerEntryKind.Usage or LedgerEntryKind.Expiry) && e.At <= now).OrderBy(e => e.At).ToList();

        var firstDay = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(start, zone).DateTime);
        // The end is exclusive (midnight after the last day): the last day is the one its final instant falls on.
        var lastDay = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(end.AddTicks(-1), zone).DateTime);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        var period = (decimal)(end - start).Ticks;

        var points = new List<BurnDownPoint>(lastDay.DayNumber - firstDay.DayNumber + 1);
        var next = 0;
        var nextRelease = 0;
        var used = 0m;
        var released = 0m;
        for (var day = firstDay; day <= lastDay; day = day.AddDays(1))
        {
            var dayEnd = StartOfDay(day.AddDays(1), zone);
            while (next < usage.Count && usage[next].At < dayEnd)
            {
                used -= usage[next].Hours;
                next++;
            }
            while (nextRelease < releases.Count && releases[nextRelease].At < dayEnd)
            {
                // Hours granted before the start date count from the first day.
                released += releases[nextRelease].Hours;
                nextRelease++;
            }
            var elapsed = Math.Clamp((decimal)(dayEnd - start).Ticks, 0m, period);
            var ideal = decimal.Round(granted * elapsed / period, 6);
            points.Add(new BurnDownPoint(day, day <= today ? used : null, ideal) { Released = day <= today ? released : null, Granted = granted });
        }
        return points;
    }

    private static DateTimeOffset StartOfDay(DateOnly day, TimeZoneInfo zone)
    {
        var midnight = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        // Where a daylight-saving change skips midnight, the day starts at the first hour that exists.
        while (zone.IsInvalidTime(midnight))
        {
            midnight = midnight.AddMinutes(30);
        }
        return new DateTimeOffset(midnight, zone.GetUtcOffset(midnight));
    }

    private static void CheckSign(LedgerEntry entry)
    {
        var ok = entry.Kind switch
        {
            LedgerEntryKind.Grant or LedgerEntryKind.Supplement or LedgerEntryKind.TransferIn or LedgerEntryKind.TrancheRelease or LedgerEntryKind.Advance => entry.Hours >= 0,
            LedgerEntryKind.Usage or LedgerEntryKind.TransferOut or LedgerEntryKind.Expiry or LedgerEntryKind.AdvanceDeduction => entry.Hours <= 0,
            LedgerEntryKind.Adjustment => true,
            _ => false,
        };
        if (!ok)
        {
            throw new ArgumentException(
                $"Ledger entry {entry.Kind} of {entry.Hours} h on {entry.ClusterId} at {entry.At:O} has the wrong sign for its kind.",
                nameof(entry));
        }
    }
}

using System.Linq.Expressions;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Reports;

/// <summary>
/// Which proposals a program report counts: those submitted from <see cref="From"/> to <see cref="To"/> (UTC days,
/// both inclusive, either open), in <see cref="CallId"/> when one is chosen. Allocations count when they were made
/// from those proposals; with no call chosen, discretionary allocations whose dates meet the range count too.
/// Capacity counts the allocation periods that meet the range.
/// </summary>
public sealed record ReportScope(Guid? CallId, DateOnly? From, DateOnly? To)
{
    public static readonly ReportScope Everything = new(null, null, null);

    internal DateTimeOffset? FromInstant => From is { } d ? Allocation.StartOf(d) : null;

    internal DateTimeOffset? ToInstant => To is { } d ? Allocation.EndOf(d) : null;

    /// <summary>The earliest and latest days a range may name (outside them a date is a typing error, not a report).</summary>
    public static readonly DateOnly Earliest = new(2000, 1, 1), Latest = new(2999, 12, 31);

    /// <summary>Refuses a range that ends before it starts or names a day outside <see cref="Earliest"/>–<see cref="Latest"/>.</summary>
    public void Validate()
    {
        var problems = new Dictionary<string, string>();
        foreach (var (name, day) in new[] { (nameof(From), From), (nameof(To), To) })
        {
            if (day is { } d && (d < Earliest || d > Latest))
            {
                problems[name] = $"Choose a day from {Earliest:yyyy-MM-dd} to {Latest:yyyy-MM-dd}.";
            }
        }
        if (problems.Count == 0 && From is { } from && To is { } to && to < from)
        {
            problems[nameof(To)] = "Choose an end on or after the start.";
        }
        if (problems.Count > 0)
        {
            throw new DomainException("The date range cannot be reported: see the messages beside the dates.", problems);
        }
    }
}

/// <summary>Proposals counted under one label: submitted, with a released decision, and awarded among those.</summary>
public sealed record CountRow(string Label, int Submitted, int Decided, int Awarded)
{
    /// <summary>Awarded ÷ decided (released decisions only), as a percentage; null before any decision.</summary>
    public decimal? SuccessRate => Decided == 0 ? null : Math.Round(100m * Awarded / Decided, 1);
}

/// <summary>GPU-hours on one cluster: asked for, recommended by reviewers, granted to allocations, used.</summary>
public sealed record ClusterHoursRow(string Cluster, decimal Requested, decimal Recommended, decimal Granted, decimal Used);

/// <summary>One cluster in one allocation period: what may be granted (capacity × factor − reserve) and what is.</summary>
public sealed record CapacityReportRow(string Period, DateOnly PeriodStart, string Cluster, decimal Capacity, decimal Grantable, decimal Committed)
{
    public decimal Free => Grantable - Committed;
}

public sealed record UtilisationRow(Guid AllocationId, string Title, string SlurmAccount, AllocationState State, decimal Granted, decimal Used)
{
    /// <summary>Used ÷ granted as a percentage; null when nothing is granted.</summary>
    public decimal? Utilisation => Granted <= 0 ? null : Math.Round(100m * Used / Granted, 1);
}

/// <summary>How many allocations used a share of their hours in [<see cref="FromPercent"/>, <see cref="ToPercent"/>) (the last band has no upper end).</summary>
public sealed record UtilisationBand(int FromPercent, int? ToPercent, int Allocations)
{
    public string Label => ToPercent is { } to ? $"{FromPercent}–{to} %" : $"{FromPercent} % and more";
}

public sealed record ReviewerLoadRow(string Reviewer, int Assigned, int Submitted, double? MeanTurnaroundDays)
{
    public int Open => Assigned - Submitted;
}

/// <summary>Days from submission to the released decision, counted in bands.</summary>
public sealed record DecisionTimeBand(string Label, int Proposals);

/// <summary>
/// The outputs the accepted reports of one call's allocations list, by kind; each paper, dataset, set of weights or
/// code counted once per call however many reports name it (by its DOI or URL).
/// </summary>
public sealed record OutputsRow(string Call, int Papers, int Datasets, int ModelWeights, int Code)
{
    public int Total => Papers + Datasets + ModelWeights + Code;
}

public sealed record ReportTotals(int Submitted, int Decided, int Awarded, int Waitlisted, int Declined, int Withdrawn, double? MeanDaysToDecision)
{
    public decimal? SuccessRate => Decided == 0 ? null : Math.Round(100m * Awarded / Decided, 1);
}

public sealed record ProgramReport(
    ReportScope Scope,
    ReportTotals Totals,
    IReadOnlyList<CountRow> ByMonth,
    IReadOnlyList<CountRow> ByCall,
    IReadOnlyList<CountRow> ByField,
    IReadOnlyList<CountRow> ByCountry,
    IReadOnlyList<CountRow> ByInstitution,
    IReadOnlyList<ClusterHoursRow> HoursByCluster,
    IReadOnlyList<CapacityReportRow> Capacity,
    IReadOnlyList<UtilisationRow> Utilisation,
    IReadOnlyList<UtilisationBand> UtilisationBands,
    IReadOnlyList<ReviewerLoadRow> ReviewerLoad,
    IReadOnlyList<DecisionTimeBand> DecisionTimes,
    IReadOnlyList<OutputsRow> OutputsByCall);

/// <summary>
/// The program officers' figures (<c>/Admin/Reports</c>): each is one query that groups and sums in PostgreSQL;
/// only the already-aggregated rows come back. Read-only; admins only (the page's folder policy).
/// </summary>
public sealed class ProgramReports(PortalDbContext db)
{
    /// <summary>Upper ends of the days-to-decision bands (the last band is open).</summary>
    public static readonly int[] DecisionDayBands = [30, 60, 90, 180];

    public async Task<ProgramReport> BuildAsync(ReportScope scope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        scope.Validate();
        var facts = Facts(scope);
        var totals = await facts.GroupBy(_ => 1).Select(g => new ReportTotals(
                g.Count(),
                g.Count(f => f.Decided),
                g.Count(f => f.Decided && f.Decision == ProposalDecision.Awarded),
                g.Count(f => f.Decided && f.Decision == ProposalDecision.Waitlisted),
                g.Count(f => f.Decided && f.Decision == ProposalDecision.Declined),
                g.Count(f => f.Status == ProposalStatus.Withdrawn),
                g.Where(f => f.Decided).Average(f => (double?)(f.ReleasedAt!.Value - f.SubmittedAt).TotalDays)))
            .SingleOrDefaultAsync(cancellationToken) ?? new ReportTotals(0, 0, 0, 0, 0, 0, null);
        var byMonth = (await CountByAsync(facts, f => f.SubmittedAt.Year * 100 + f.SubmittedAt.Month, cancellationToken))
            .OrderBy(r => r.Key).Select(r => r.Row($"{r.Key / 100:D4}-{r.Key % 100:D2}")).ToList();
        var byCall = (await CountByAsync(facts, f => f.CallTitle, cancellationToken)).OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Row(r.Key)).ToList();
        var byField = Ranked(await CountByAsync(facts, f => f.Field, cancellationToken));
        var byCountry = Ranked(await CountByAsync(facts, f => f.Country, cancellationToken));
        var byInstitution = Ranked(await CountByAsync(facts, f => f.Institution, cancellationToken));
        var utilisation = await UtilisationAsync(scope, cancellationToken);
        return new ProgramReport(scope, totals, byMonth, byCall, byField, byCountry, byInstitution,
            await HoursByClusterAsync(scope, cancellationToken),
            await CapacityAsync(scope, cancellationToken),
            utilisation,
            Bands(utilisation),
            await ReviewerLoadAsync(scope, cancellationToken),
            await DecisionTimesAsync(scope, cancellationToken),
            await OutputsByCallAsync(scope, cancellationToken));
    }

    /// <summary>The label of allocations made without a proposal (so without a call).</summary>
    public const string Discretionary = "(discretionary)";

    /// <summary>Utilisation in bands of ten percent, the last band for 100 % and more (an allocation granted nothing is left out).</summary>
    public static IReadOnlyList<UtilisationBand> Bands(IEnumerable<UtilisationRow> rows)
    {
        var counts = new int[11];
        foreach (var r in rows)
        {
            if (r.Utilisation is { } u)
            {
                counts[Math.Min(10, (int)Math.Floor(u / 10))]++;
            }
        }
        return [.. counts.Select((n, i) => new UtilisationBand(i * 10, i < 10 ? i * 10 + 10 : null, n))];
    }

    /// <summary>Submitted proposals in scope, flattened with their call and PI (for grouping in SQL).</summary>
    private IQueryable<ProposalFact> Facts(ReportScope scope) =>
        from p in Proposals(scope)
        join c in db.Calls on p.CallId equals c.Id
        join u in db.Users on p.PiUserId equals u.Id
        select new ProposalFact
        {
            CallTitle = c.Title,
            Field = p.ResearchField == "" ? "(none)" : p.ResearchField,
            Country = u.Country == "" ? "(none)" : u.Country,
            Institution = u.Institution == "" ? "(none)" : u.Institution,
            SubmittedAt = p.SubmittedAt!.Value,
            Status = p.Status,
            Decision = p.Decision,
            Decided = p.DecisionReleasedAt != null,
            ReleasedAt = p.DecisionReleasedAt,
        };

    private IQueryable<Proposal> Proposals(ReportScope scope)
    {
        var from = scope.FromInstant;
        var to = scope.ToInstant;
        return db.Proposals.AsNoTracking().Where(p => p.SubmittedAt != null
            && (scope.CallId == null || p.CallId == scope.CallId)
            && (from == null || p.SubmittedAt >= from)
            && (to == null || p.SubmittedAt < to));
    }

    private IQueryable<Allocation> Allocations(ReportScope scope)
    {
        var proposalIds = Proposals(scope).Select(p => (Guid?)p.Id);
        var from = scope.From;
        var to = scope.To;
        var discretionary = scope.CallId == null;
        return db.Allocations.AsNoTracking().Where(a => proposalIds.Contains(a.ProposalId)
            || (discretionary && a.ProposalId == null && (from == null || a.EndDate >= from) && (to == null || a.StartDate <= to)));
    }

    private static async Task<List<Counted<TKey>>> CountByAsync<TKey>(IQueryable<ProposalFact> facts, Expression<Func<ProposalFact, TKey>> key, CancellationToken cancellationToken) =>
        await facts.GroupBy(key).Select(g => new Counted<TKey>(
                g.Key,
                g.Count(),
                g.Count(f => f.Decided),
                g.Count(f => f.Decided && f.Decision == ProposalDecision.Awarded)))
            .ToListAsync(cancellationToken);

    /// <summary>Most submissions first, then by name.</summary>
    private static List<CountRow> Ranked(IEnumerable<Counted<string>> rows) =>
        [.. rows.OrderByDescending(r => r.Submitted).ThenBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Row(r.Key))];

    private async Task<IReadOnlyList<ClusterHoursRow>> HoursByClusterAsync(ReportScope scope, CancellationToken cancellationToken)
    {
        var proposals = Proposals(scope);
        var requested = await proposals.SelectMany(p => p.Requests).GroupBy(r => r.ClusterId)
            .Select(g => new { ClusterId = g.Key, Hours = g.Sum(r => r.RequestedHours) }).ToDictionaryAsync(x => x.ClusterId, x => x.Hours, cancellationToken);
        // A proposal's recommendation on a cluster is the mean of its submitted reviews' recommendations there.
        var proposalIds = proposals.Select(p => p.Id);
        var recommended = (await db.Reviews.AsNoTracking().Where(r => r.SubmittedAt != null && proposalIds.Contains(r.ProposalId))
                .SelectMany(r => r.Recommendations, (r, h) => new { r.ProposalId, h.ClusterId, h.Hours })
                .GroupBy(x => new { x.ProposalId, x.ClusterId })
                .Select(g => new { g.Key.ClusterId, Hours = g.Average(x => x.Hours) })
                .GroupBy(x => x.ClusterId)
                .Select(g => new { ClusterId = g.Key, Hours = g.Sum(x => x.Hours) })
                .ToListAsync(cancellationToken))
            .ToDictionary(x => x.ClusterId, x => Math.Round(x.Hours, 2));
        var allocationIds = Allocations(scope).Select(a => a.Id);
        var quotas = await db.AllocationQuotas.AsNoTracking().Where(q => allocationIds.Contains(q.AllocationId)).GroupBy(q => q.ClusterId)
            .Select(g => new { ClusterId = g.Key, Granted = g.Sum(q => q.GrantedHours), Used = g.Sum(q => q.UsedHours) })
            .ToDictionaryAsync(x => x.ClusterId, cancellationToken);
        var ids = requested.Keys.Concat(recommended.Keys).Concat(quotas.Keys).ToHashSet();
        var names = await db.Clusters.AsNoTracking().Where(c => ids.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        return [.. ids.Select(id => new ClusterHoursRow(names.GetValueOrDefault(id, "?"),
                requested.GetValueOrDefault(id), recommended.GetValueOrDefault(id),
                quotas.TryGetValue(id, out var q) ? q.Granted : 0, quotas.TryGetValue(id, out var u) ? u.Used : 0))
            .OrderBy(r => r.Cluster, StringComparer.Ordinal)];
    }

    private async Task<IReadOnlyList<CapacityReportRow>> CapacityAsync(ReportScope scope, CancellationToken cancellationToken)
    {
        var start = scope.From;
        var end = scope.To;
        return await (from c in db.ClusterCapacities.AsNoTracking()
                      join p in db.AllocationPeriods on c.PeriodId equals p.Id
                      join cl in db.Clusters on c.ClusterId equals cl.Id
                      where (start == null || p.EndDate >= start) && (end == null || p.StartDate <= end)
                      orderby p.StartDate, p.Name, cl.Name
                      select new CapacityReportRow(p.Name, p.StartDate, cl.Name, c.CapacityHours,
                          c.CapacityHours * c.OversubscriptionFactor - c.ReserveHours, c.CommittedHours))
            .ToListAsync(cancellationToken);
    }

    private async Task<IReadOnlyList<UtilisationRow>> UtilisationAsync(ReportScope scope, CancellationToken cancellationToken) =>
        await Allocations(scope)
            .OrderBy(a => a.ProjectTitle).ThenBy(a => a.Id)
            .Select(a => new UtilisationRow(a.Id, a.ProjectTitle, a.SlurmAccount, a.State, a.Quotas.Sum(q => q.GrantedHours), a.Quotas.Sum(q => q.UsedHours)))
            .ToListAsync(cancellationToken);

    private async Task<IReadOnlyList<ReviewerLoadRow>> ReviewerLoadAsync(ReportScope scope, CancellationToken cancellationToken)
    {
        var proposalIds = Proposals(scope).Select(p => p.Id);
        var rows = await (from r in db.Reviews.AsNoTracking()
                          where proposalIds.Contains(r.ProposalId)
                          group r by r.ReviewerUserId into g
                          select new
                          {
                              ReviewerId = g.Key,
                              Assigned = g.Count(),
                              Submitted = g.Count(r => r.SubmittedAt != null),
                              Turnaround = g.Where(r => r.SubmittedAt != null).Average(r => (double?)(r.SubmittedAt!.Value - r.AssignedAt).TotalDays),
                          } into x
                          join u in db.Users on x.ReviewerId equals u.Id
                          orderby x.Assigned descending, u.FullName
                          select new ReviewerLoadRow(u.FullName, x.Assigned, x.Submitted, x.Turnaround))
            .ToListAsync(cancellationToken);
        return [.. rows.Select(r => r with { MeanTurnaroundDays = r.MeanTurnaroundDays is { } d ? Math.Round(d, 1) : null })];
    }

    private async Task<IReadOnlyList<OutputsRow>> OutputsByCallAsync(ReportScope scope, CancellationToken cancellationToken)
    {
        // Only accepted reports count (what the program has checked, as on the public page); the distinct outputs per
        // call and kind are counted in PostgreSQL.
        var outputs = from a in Allocations(scope)
                      join p in db.Proposals on a.ProposalId equals (Guid?)p.Id into proposals
                      from p in proposals.DefaultIfEmpty()
                      join c in db.Calls on p.CallId equals c.Id into calls
                      from c in calls.DefaultIfEmpty()
                      join r in db.ProgressReports on a.Id equals r.AllocationId
                      where r.Status == ProgressReportStatus.Accepted
                      from o in r.Outputs
                      select new { Call = c == null ? Discretionary : c.Title, o.Kind, Link = o.Doi ?? o.Url };
        var counts = await outputs.Distinct().GroupBy(x => new { x.Call, x.Kind })
            .Select(g => new { g.Key.Call, g.Key.Kind, Count = g.Count() })
            .ToListAsync(cancellationToken);
        return [.. counts.GroupBy(x => x.Call).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new OutputsRow(g.Key,
            g.Where(x => x.Kind == OutputKind.Paper).Sum(x => x.Count),
            g.Where(x => x.Kind == OutputKind.Dataset).Sum(x => x.Count),
            g.Where(x => x.Kind == OutputKind.ModelWeights).Sum(x => x.Count),
            g.Where(x => x.Kind == OutputKind.Code).Sum(x => x.Count)))];
    }

    private async Task<IReadOnlyList<DecisionTimeBand>> DecisionTimesAsync(ReportScope scope, CancellationToken cancellationToken)
    {
        int[] b = DecisionDayBands;
        var counts = await Proposals(scope).Where(p => p.DecisionReleasedAt != null)
            .Select(p => (p.DecisionReleasedAt!.Value - p.SubmittedAt!.Value).TotalDays)
            .GroupBy(days => days < b[0] ? 0 : days < b[1] ? 1 : days < b[2] ? 2 : days < b[3] ? 3 : 4)
            .Select(g => new { Band = g.Key, Count = g.Count() })
            .ToDictionaryAsync(x => x.Band, x => x.Count, cancellationToken);
        return [.. Enumerable.Range(0, b.Length + 1).Select(i => new DecisionTimeBand(
            i == 0 ? $"under {b[0]} days" : i < b.Length ? $"{b[i - 1]}–{b[i]} days" : $"{b[^1]} days and more",
            counts.GetValueOrDefault(i)))];
    }

    private sealed record Counted<TKey>(TKey Key, int Submitted, int Decided, int Awarded)
    {
        public CountRow Row(string label) => new(label, Submitted, Decided, Awarded);
    }

    /// <summary>A submitted proposal as the reports group it (a class with setters, so EF can compose over it).</summary>
    private sealed class ProposalFact
    {
        public string CallTitle { get; init; } = "";

        public string Field { get; init; } = "";

        public string Country { get; init; } = "";

        public string Institution { get; init; } = "";

        public DateTimeOffset SubmittedAt { get; init; }

        public ProposalStatus Status { get; init; }

        public ProposalDecision? Decision { get; init; }

        public bool Decided { get; init; }

        public DateTimeOffset? ReleasedAt { get; init; }
    }
}

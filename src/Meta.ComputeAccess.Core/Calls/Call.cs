using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Identity;

namespace Meta.ComputeAccess.Calls;

public enum CallStatus
{
    Draft,
    Open,
    Closed,
    Decided,
    Archived,
}

/// <summary>A fixed call has a deadline; a rolling call takes proposals until it is closed and reviews them as they arrive.</summary>
public enum CallKind
{
    Fixed,
    Rolling,
}

public enum ReviewMode
{
    [Display(Name = "Single-blind")]
    SingleBlind,
    [Display(Name = "Double-blind")]
    DoubleBlind,
}

/// <summary>
/// A call for proposals. Its rules are enforced here: what may change in which state (an open call only
/// grows more permissive), and whether it takes submissions at a given instant.
/// </summary>
public sealed partial class Call
{
    private readonly List<CallCluster> clusters = [];
    private readonly List<RubricCriterion> rubric = [];

    public Guid Id { get; private set; }

    public string Title { get; private set; } = "";

    public string Slug { get; private set; } = "";

    public string DescriptionMarkdown { get; private set; } = "";

    public string EligibilityText { get; private set; } = "";

    public CallKind Kind { get; private set; }

    public CallStatus Status { get; private set; }

    public DateTimeOffset OpensAt { get; private set; }

    /// <summary>The submission deadline; null for a rolling call.</summary>
    public DateTimeOffset? ClosesAt { get; private set; }

    /// <summary>The allocation period the awards cover.</summary>
    public DateOnly AwardStart { get; private set; }

    public DateOnly AwardEnd { get; private set; }

    public int ReviewsPerProposal { get; private set; }

    public ReviewMode ReviewMode { get; private set; }

    /// <summary>The IANA time zone the call's dates were entered in (shown beside them).</summary>
    public string TimeZoneId { get; private set; } = "UTC";

    public DateTimeOffset CreatedAt { get; private set; }

    public DateTimeOffset? ClosedAt { get; private set; }

    /// <summary>Reviews are submitted before this instant; submitted reviews stay editable until their proposal is decided.</summary>
    public DateTimeOffset? ReviewDeadline { get; private set; }

    /// <summary>When the admin opened the applicants' response phase; null when the call has none (nothing changes then).</summary>
    public DateTimeOffset? ResponseOpenedAt { get; private set; }

    /// <summary>Applicants respond to the reviews before this instant, to the second.</summary>
    public DateTimeOffset? ResponseDeadline { get; private set; }

    public IReadOnlyList<CallCluster> Clusters => clusters;

    /// <summary>
    /// ISO country codes this call adds to the program's embargoed countries (compliance screening): a team with a member
    /// there cannot submit. A call can only add to the program's country rules, never loosen them.
    /// </summary>
    public List<string> EmbargoedCountries { get; private set; } = [];

    /// <summary>ISO country codes this call adds to the program's restricted countries: such a member needs a compliance officer's review.</summary>
    public List<string> RestrictedCountries { get; private set; } = [];

    public IReadOnlyList<RubricCriterion> Rubric => rubric;

    private const string NoSuchCriterion = "No such criterion in this call.";

    private Call()
    {
    }

    public static Call Create(string title, string slug, DateTimeOffset now)
    {
        if (!SlugPattern().IsMatch(slug ?? ""))
        {
            throw new DomainException("The slug must be 2 to 60 lowercase letters, digits or dashes, starting with a letter.");
        }
        var call = new Call
        {
            Id = Guid.CreateVersion7(now),
            Slug = slug!,
            CreatedAt = now,
            Status = CallStatus.Draft,
            Kind = CallKind.Fixed,
            ReviewsPerProposal = 3,
            ReviewMode = ReviewMode.SingleBlind,
            OpensAt = now,
            ClosesAt = now.AddDays(30),
            AwardStart = DateOnly.FromDateTime(now.UtcDateTime).AddMonths(2),
            AwardEnd = DateOnly.FromDateTime(now.UtcDateTime).AddMonths(14),
        };
        call.SetTitle(title);
        return call;
    }

    /// <summary>True when a proposal may be submitted at <paramref name="now"/> (server clock, to the second).</summary>
    public bool IsAcceptingSubmissions(DateTimeOffset now) =>
        Status == CallStatus.Open && now >= OpensAt && (ClosesAt is null || now < ClosesAt);

    /// <summary>True when researchers may start and edit drafts (the call is published and not past its deadline).</summary>
    public bool IsAcceptingDrafts(DateTimeOffset now) => AcceptsDrafts(Status, ClosesAt, now);

    /// <summary><see cref="IsAcceptingDrafts"/> for a call read as its status and deadline (a list that does not load the call).</summary>
    public static bool AcceptsDrafts(CallStatus status, DateTimeOffset? closesAt, DateTimeOffset now) =>
        status == CallStatus.Open && (closesAt is null || now < closesAt);

    public void SetTitle(string title)
    {
        if (string.IsNullOrWhiteSpace(title) || title.Trim().Length > 200)
        {
            throw new DomainException("The title must be 1 to 200 characters.");
        }
        Title = title.Trim();
    }

    /// <summary>Texts can always be edited: clarifying a call is never less permissive.</summary>
    public void SetTexts(string title, string descriptionMarkdown, string eligibilityText)
    {
        EnsureNotArchived();
        SetTitle(title);
        DescriptionMarkdown = (descriptionMarkdown ?? "").Trim();
        EligibilityText = (eligibilityText ?? "").Trim();
    }

    /// <summary>Schedule, kind, award period and review settings. In a draft anything goes; once open only a later deadline.</summary>
    public void SetSchedule(CallKind kind, DateTimeOffset opensAt, DateTimeOffset? closesAt, DateOnly awardStart, DateOnly awardEnd, string timeZoneId)
    {
        EnsureNotArchived();
        if (kind == CallKind.Fixed && closesAt is null)
        {
            throw new DomainException("A fixed call needs a closing time; choose a rolling call for one without a deadline.");
        }
        if (kind == CallKind.Rolling)
        {
            closesAt = null;
        }
        if (closesAt is not null && closesAt <= opensAt)
        {
            throw new DomainException("The call must close after it opens.");
        }
        if (awardEnd <= awardStart)
        {
            throw new DomainException("The award period must end after it starts.");
        }
        if (Status != CallStatus.Draft)
        {
            if (kind != Kind || opensAt != OpensAt || awardStart != AwardStart || awardEnd != AwardEnd)
            {
                throw new DomainException("Once a call is open only its closing time can change (and only to a later time).");
            }
            if (closesAt != ClosesAt && Status != CallStatus.Open)
            {
                throw new DomainException("A closed call's deadline cannot change.");
            }
            if (closesAt < ClosesAt)
            {
                throw new DomainException("An open call's deadline can only move later: applicants are planning around it.");
            }
        }
        Kind = kind;
        OpensAt = opensAt;
        ClosesAt = closesAt;
        AwardStart = awardStart;
        AwardEnd = awardEnd;
        TimeZoneId = string.IsNullOrWhiteSpace(timeZoneId) ? "UTC" : timeZoneId;
    }

    public void SetReview(int reviewsPerProposal, ReviewMode mode)
    {
        EnsureNotArchived();
        if (reviewsPerProposal is < 1 or > 10)
        {
            throw new DomainException("Reviews per proposal must be between 1 and 10.");
        }
        if (Status != CallStatus.Draft && (reviewsPerProposal != ReviewsPerProposal || mode != ReviewMode))
        {
            throw new DomainException("Review settings are fixed once the call is open: applicants were told how they would be reviewed.");
        }
        ReviewsPerProposal = reviewsPerProposal;
        ReviewMode = mode;
    }

    /// <summary>
    /// Offers a cluster or changes its terms. After opening a budget can only grow, the maximum request only grow
    /// and the minimum only shrink; a cluster once offered stays offered.
    /// </summary>
    public void OfferCluster(Guid clusterId, decimal budgetHours, decimal minRequestHours, decimal maxRequestHours)
    {
        EnsureNotArchived();
        if (budgetHours <= 0 || minRequestHours < 0 || maxRequestHours <= 0)
        {
            throw new DomainException("Budget and maximum request must be positive hours; the minimum request cannot be negative.");
        }
        if (minRequestHours > maxRequestHours || maxRequestHours > budgetHours)
        {
            throw new DomainException("The minimum request cannot exceed the maximum, and the maximum cannot exceed the cluster's budget.");
        }
        if (budgetHours > 1_000_000_000m || decimal.Round(budgetHours, 2) != budgetHours || decimal.Round(maxRequestHours, 2) != maxRequestHours || decimal.Round(minRequestHours, 2) != minRequestHours)
        {
            throw new DomainException("Hours are given with at most two decimals and below one billion.");
        }
        var existing = clusters.FirstOrDefault(c => c.ClusterId == clusterId);
        if (existing is null)
        {
            if (Status is not (CallStatus.Draft or CallStatus.Open))
            {
                throw new DomainException("Clusters can be added only while the call is a draft or open.");
            }
            clusters.Add(new CallCluster(clusterId, budgetHours, minRequestHours, maxRequestHours));
            return;
        }
        if (Status != CallStatus.Draft && (budgetHours < existing.BudgetHours || maxRequestHours < existing.MaxRequestHours || minRequestHours > existing.MinRequestHours))
        {
            throw new DomainException("Once the call is open a cluster's budget and maximum request can only grow and its minimum only shrink.");
        }
        existing.Update(budgetHours, minRequestHours, maxRequestHours);
    }

    public void WithdrawCluster(Guid clusterId)
    {
        if (Status != CallStatus.Draft)
        {
            throw new DomainException("A cluster offered in an open call stays offered: applicants may already have asked for it.");
        }
        if (clusters.RemoveAll(c => c.ClusterId == clusterId) == 0)
        {
            throw new DomainException("This call does not offer that cluster.");
        }
    }

    public void AddCriterion(string name, string guidance, decimal weight)
    {
        EnsureNotArchived();
        if (Status is not (CallStatus.Draft or CallStatus.Open))
        {
            throw new DomainException("The rubric can change only while the call is a draft or open.");
        }
        ValidateCriterion(name, guidance, weight);
        if (rubric.Any(c => string.Equals(c.Name, name.Trim(), StringComparison.OrdinalIgnoreCase)))
        {
            throw new DomainException($"The rubric already has a criterion named '{name.Trim()}'.");
        }
        rubric.Add(new RubricCriterion(Guid.CreateVersion7(), rubric.Count + 1, name.Trim(), guidance.Trim(), weight));
    }

    /// <summary>Guidance can always be clarified; name and weight only in a draft (reviews may use them).</summary>
    public void UpdateCriterion(Guid criterionId, string name, string guidance, decimal weight)
    {
        EnsureNotArchived();
        ValidateCriterion(name, guidance, weight);
        var criterion = rubric.FirstOrDefault(c => c.Id == criterionId) ?? throw new DomainException(NoSuchCriterion);
        if (Status != CallStatus.Draft && (criterion.Name != name.Trim() || criterion.Weight != weight))
        {
            throw new DomainException("Once the call is open a criterion's name and weight are fixed; its guidance can still be clarified.");
        }
        criterion.Update(name.Trim(), guidance.Trim(), weight);
    }

    public void RemoveCriterion(Guid criterionId)
    {
        if (Status != CallStatus.Draft)
        {
            throw new DomainException("Criteria cannot be removed once the call is open.");
        }
        if (rubric.RemoveAll(c => c.Id == criterionId) == 0)
        {
            throw new DomainException(NoSuchCriterion);
        }
        for (var i = 0; i < rubric.Count; i++)
        {
            rubric[i].Position = i + 1;
        }
    }

    /// <summary>Publishes the call. It takes submissions from <see cref="OpensAt"/> to <see cref="ClosesAt"/>.</summary>
    public void Open(DateTimeOffset now)
    {
        if (Status != CallStatus.Draft)
        {
            throw new DomainException($"Only a draft call can be opened; this one is {Status}.");
        }
        var missing = new List<string>();
        if (string.IsNullOrWhiteSpace(DescriptionMarkdown))
        {
            missing.Add("a description");
        }
        if (clusters.Count == 0)
        {
            missing.Add("at least one cluster with a budget");
        }
        if (rubric.Count == 0)
        {
            missing.Add("a review rubric with at least one criterion");
        }
        if (ClosesAt is not null && ClosesAt <= now)
        {
            missing.Add("a closing time in the future");
        }
        if (missing.Count > 0)
        {
            throw new DomainException("Before opening, the call needs " + string.Join(", ", missing) + ".");
        }
        Status = CallStatus.Open;
    }

    /// <summary>Stops submissions (a rolling call's end, or a fixed call after its deadline or closed early).</summary>
    public void Close(DateTimeOffset now)
    {
        if (Status != CallStatus.Open)
        {
            throw new DomainException($"Only an open call can be closed; this one is {Status}.");
        }
        Status = CallStatus.Closed;
        ClosedAt = now;
        if (ClosesAt is null || ClosesAt > now)
        {
            ClosesAt = now;
        }
    }

    /// <summary>Sets the review deadline (null: none yet). Review runs while the call is open (rolling) or closed.</summary>
    public void SetReviewDeadline(DateTimeOffset? deadline)
    {
        if (Status is not (CallStatus.Open or CallStatus.Closed or CallStatus.Draft))
        {
            throw new DomainException($"The review deadline can change only before decisions are released; this call is {Status}.");
        }
        if (deadline is not null && deadline <= OpensAt)
        {
            throw new DomainException("The review deadline must be after the call opens.");
        }
        ReviewDeadline = deadline;
    }

    /// <summary>Whether applicants may submit a response to the reviews at <paramref name="now"/> (before the deadline, to the second).</summary>
    public bool IsTakingResponses(DateTimeOffset now) => ResponseOpenedAt is not null && now < ResponseDeadline;

    /// <summary>
    /// Opens the applicants' right to reply until <paramref name="deadline"/>: once per call, while its review runs. Whether the
    /// reviews are in is the review module's check (<c>ReviewResponses.OpenAsync</c>).
    /// </summary>
    public void OpenResponsePhase(DateTimeOffset deadline, DateTimeOffset now)
    {
        if (Status is not (CallStatus.Open or CallStatus.Closed))
        {
            throw new DomainException($"A response phase is opened while the call's review runs; this call is {Status}.");
        }
        if (ResponseOpenedAt is not null)
        {
            throw new DomainException("This call's response phase was already opened; it runs once.");
        }
        if (deadline <= now.AddHours(1))
        {
            throw new DomainException("The response deadline must be at least an hour from now.");
        }
        if (deadline > now.AddDays(60))
        {
            throw new DomainException("The response deadline must be within 60 days.");
        }
        ResponseOpenedAt = now;
        ResponseDeadline = deadline;
    }

    /// <summary>Marks the call decided once its decisions have been released (the review workflow calls this).</summary>
    public void MarkDecided()
    {
        if (Status is not (CallStatus.Closed or CallStatus.Open))
        {
            throw new DomainException($"A call is decided after it closes; this one is {Status}.");
        }
        Status = CallStatus.Decided;
    }

    public void Archive()
    {
        if (Status is not (CallStatus.Decided or CallStatus.Draft))
        {
            throw new DomainException("Only a decided call (or an unused draft) can be archived.");
        }
        Status = CallStatus.Archived;
    }

    /// <summary>
    /// Sets the countries this call embargoes or restricts on top of the program's rules (compliance screening). Any
    /// state but archived: a rule about who may be funded applies from the moment it is set.
    /// </summary>
    public void SetCountryRules(IEnumerable<string> embargoed, IEnumerable<string> restricted)
    {
        EnsureNotArchived();
        var e = CountryCodes(embargoed);
        var r = CountryCodes(restricted);
        if (e.Intersect(r, StringComparer.Ordinal).FirstOrDefault() is { } both)
        {
            throw new DomainException($"{Countries.NameOf(both)} is listed as both embargoed and restricted; choose one.");
        }
        EmbargoedCountries = e;
        RestrictedCountries = r;
    }

    private static List<string> CountryCodes(IEnumerable<string> codes)
    {
        var result = new List<string>();
        foreach (var raw in codes)
        {
            var code = (raw ?? "").Trim().ToUpperInvariant();
            if (code.Length == 0)
            {
                continue;
            }
            if (!Countries.IsKnown(code))
            {
                throw new DomainException($"'{(code.Length > 10 ? code[..10] + "…" : code)}' is not an ISO 3166 two-letter country code.");
            }
            if (!result.Contains(code))
            {
                result.Add(code);
            }
        }
        result.Sort(StringComparer.Ordinal);
        return result;
    }

    public CallCluster? ClusterTerms(Guid clusterId) => clusters.FirstOrDefault(c => c.ClusterId == clusterId);

    private static void ValidateCriterion(string name, string guidance, decimal weight)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > 100)
        {
            throw new DomainException("A criterion needs a name of at most 100 characters.");
        }
        if ((guidance ?? "").Length > 2000)
        {
            throw new DomainException("Guidance is limited to 2,000 characters.");
        }
        if (weight is <= 0 or > 100)
        {
            throw new DomainException("A criterion's weight must be above 0 and at most 100.");
        }
    }

    private void EnsureNotArchived()
    {
        if (Status == CallStatus.Archived)
        {
            throw new DomainException("An archived call cannot change.");
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{1,59}$")]
    private static partial Regex SlugPattern();
}

/// <summary>A cluster offered in a call, with the hours budget and the bounds of a single request.</summary>
public sealed class CallCluster
{
    public Guid ClusterId { get; private set; }

    public decimal BudgetHours { get; private set; }

    public decimal MinRequestHours { get; private set; }

    public decimal MaxRequestHours { get; private set; }

    private CallCluster()
    {
    }

    internal CallCluster(Guid clusterId, decimal budget, decimal min, decimal max)
    {
        ClusterId = clusterId;
        Update(budget, min, max);
    }

    internal void Update(decimal budget, decimal min, decimal max)
    {
        BudgetHours = budget;
        MinRequestHours = min;
        MaxRequestHours = max;
    }
}

/// <summary>One criterion of the review rubric, scored 1–5 by reviewers.</summary>
public sealed class RubricCriterion
{
    public Guid Id { get; private set; }

    public int Position { get; internal set; }

    public string Name { get; private set; } = "";

    public string Guidance { get; private set; } = "";

    public decimal Weight { get; private set; }

    private RubricCriterion()
    {
    }

    internal RubricCriterion(Guid id, int position, string name, string guidance, decimal weight)
    {
        Id = id;
        Position = position;
        Update(name, guidance, weight);
    }

    internal void Update(string name, string guidance, decimal weight)
    {
        Name = name;
        Guidance = guidance;
        Weight = weight;
    }
}

/// <summary>Which calls researchers see as open, the same on every page that lists or counts them.</summary>
public static class CallQueries
{
    /// <summary>
    /// The calls researchers may start proposals in at <paramref name="now"/> (<see cref="Call.IsAcceptingDrafts"/>): published
    /// and not past the deadline, including those whose submissions open later. The calls page lists them and the
    /// dashboard counts them.
    /// </summary>
    public static IQueryable<Call> OpenForProposals(this IQueryable<Call> calls, DateTimeOffset now) =>
        calls.Where(c => c.Status == CallStatus.Open && (c.ClosesAt == null || c.ClosesAt > now));
}

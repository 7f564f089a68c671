using System.Text.RegularExpressions;

namespace Meta.ComputeAccess.Allocations;

public enum AllocationState
{
    /// <summary>Granted, but its start date has not come yet: its account is sent to the clusters with a limit of 0.</summary>
    Pending,
    Active,
    Suspended,
    Expired,
    Exhausted,
    Closed,
}

/// <summary>
/// A project's hours on one or more clusters, from <see cref="StartDate"/> to <see cref="EndDate"/> (inclusive, UTC days).
/// States: <c>Pending → Active → (Suspended ↔ Active) → Expired | Exhausted | Closed</c> (pending until the start
/// date); every change is a method that checks it is allowed and adds an <see cref="AllocationEvent"/>. Hours live in
/// the ledger, not here; who may run under its account in <see cref="Members"/>.
/// </summary>
public sealed partial class Allocation
{
    private readonly List<AllocationEvent> events = [];
    private readonly List<AllocationQuota> quotas = [];
    private readonly List<AllocationMember> members = [];
    private readonly List<AllocationMemberEvent> memberEvents = [];

    public Guid Id { get; private set; }

    public Guid PeriodId { get; private set; }

    /// <summary>The proposal whose award created this allocation; null for a discretionary allocation.</summary>
    public Guid? ProposalId { get; private set; }

    public Guid PiUserId { get; private set; }

    public string ProjectTitle { get; private set; } = "";

    /// <summary>Slurm account charged by the clusters; unique; editable by admins until the start date.</summary>
    public string SlurmAccount { get; private set; } = "";

    public DateOnly StartDate { get; private set; }

    public DateOnly EndDate { get; private set; }

    public AllocationState State { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    public IReadOnlyList<AllocationEvent> Events => events;

    public IReadOnlyList<AllocationQuota> Quotas => quotas;

    /// <summary>Everyone ever invited or added, with their current status (load it before changing membership).</summary>
    public IReadOnlyList<AllocationMember> Members => members;

    /// <summary>The membership history, oldest first once loaded (append-only: the database refuses UPDATE and DELETE).</summary>
    public IReadOnlyList<AllocationMemberEvent> MemberEvents => memberEvents;

    /// <summary>The first instant of the allocation (UTC midnight of the start date).</summary>
    public DateTimeOffset StartsAt => StartOf(StartDate);

    /// <summary>The first instant after the allocation (UTC midnight after the end date).</summary>
    public DateTimeOffset EndsAt => EndOf(EndDate);

    /// <summary><see cref="StartsAt"/> of an allocation starting on <paramref name="startDate"/>.</summary>
    public static DateTimeOffset StartOf(DateOnly startDate) => new(startDate.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary><see cref="EndsAt"/> of an allocation ending on <paramref name="endDate"/>.</summary>
    public static DateTimeOffset EndOf(DateOnly endDate) => new(endDate.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary>
    /// Open: hours may still change and usage can still be charged (jobs that ran before a suspension or exhaustion
    /// arrive late); the clusters are sent its limits. The other states, expired and closed, are final: nothing is
    /// charged or changed any more and the clusters no longer hear of the account.
    /// </summary>
    public static readonly AllocationState[] ChargeableStates = [AllocationState.Active, AllocationState.Suspended, AllocationState.Exhausted];

    /// <summary>
    /// Not ended: a pending allocation (before its start date) and the chargeable ones. Hours may still change, it may be
    /// closed, and it holds its Slurm account (another allocation of the account must start after it ends).
    /// </summary>
    public static readonly AllocationState[] OpenStates = [AllocationState.Pending, .. ChargeableStates];

    /// <summary>Final: nothing is charged or changed any more.</summary>
    public static readonly AllocationState[] EndedStates = [AllocationState.Expired, AllocationState.Closed];

    private Allocation()
    {
    }

    internal static Allocation Create(Guid periodId, Guid piUserId, string projectTitle, string slurmAccount, DateOnly start, DateOnly end, Guid? proposalId, Guid? actor, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(projectTitle) || projectTitle.Trim().Length > 300)
        {
            throw new DomainException("A project title of at most 300 characters is required.");
        }
        if (end < start)
        {
            throw new DomainException("The end date must not be before the start date.");
        }
        CheckAccount(slurmAccount);
        // Before its start date an allocation waits: the clusters hold its account at 0 until the lifecycle job starts it.
        var state = start > DateOnly.FromDateTime(now.UtcDateTime) ? AllocationState.Pending : AllocationState.Active;
        var allocation = new Allocation
        {
            Id = Guid.CreateVersion7(now),
            PeriodId = periodId,
            PiUserId = piUserId,
            ProjectTitle = projectTitle.Trim(),
            SlurmAccount = slurmAccount,
            StartDate = start,
            EndDate = end,
            ProposalId = proposalId,
            State = state,
            CreatedAt = now,
        };
        allocation.Record(now, actor, "created", null, state, $"Allocation created for \"{allocation.ProjectTitle}\", account {slurmAccount}, {start:yyyy-MM-dd} to {end:yyyy-MM-dd}");
        allocation.AddMember(piUserId, AllocationMemberRole.PrincipalInvestigator, actor, now, "PI of the allocation");
        return allocation;
    }

    internal AllocationQuota AddQuota(Guid clusterId)
    {
        var quota = new AllocationQuota(Id, clusterId);
        quotas.Add(quota);
        return quota;
    }

    public void Suspend(DateTimeOffset now, Guid? actor, string reason) =>
        Move(now, actor, "suspended", AllocationState.Suspended, reason, AllocationState.Active);

    public void Resume(DateTimeOffset now, Guid? actor, string reason) =>
        Move(now, actor, "resumed", AllocationState.Active, reason, AllocationState.Suspended);

    public void Close(DateTimeOffset now, Guid? actor, string reason) =>
        Move(now, actor, "closed", AllocationState.Closed, reason, OpenStates);

    public void Expire(DateTimeOffset now) =>
        Move(now, null, "expired", AllocationState.Expired, $"End date {EndDate:yyyy-MM-dd} passed", OpenStates);

    /// <summary>The start date has come: a pending allocation becomes active (the lifecycle job, on the start date).</summary>
    public void Activate(DateTimeOffset now)
    {
        if (DateOnly.FromDateTime(now.UtcDateTime) < StartDate)
        {
            throw new DomainException($"The allocation starts on {StartDate:yyyy-MM-dd}; it cannot be active before.");
        }
        Move(now, null, "activated", AllocationState.Active, $"Start date {StartDate:yyyy-MM-dd} reached", AllocationState.Pending);
    }

    public void MarkExhausted(DateTimeOffset now) =>
        Move(now, null, "exhausted", AllocationState.Exhausted, "All granted hours are used", AllocationState.Active);

    /// <summary>An exhausted allocation that received more hours runs again.</summary>
    internal void Reactivate(DateTimeOffset now, Guid? actor, string reason) =>
        Move(now, actor, "reactivated", AllocationState.Active, reason, AllocationState.Exhausted);

    /// <summary>Not ended (<see cref="OpenStates"/>): its hours may still change.</summary>
    public bool IsOpen => OpenStates.Contains(State);

    /// <summary>Refuses a change of hours once the allocation has ended.</summary>
    internal void RequireOpen()
    {
        if (!IsOpen)
        {
            throw new DomainException($"The allocation is {State.ToString().ToLowerInvariant()}; its hours can no longer change.");
        }
    }

    /// <summary>The allocation's hours on a cluster; refused when it has none there.</summary>
    internal AllocationQuota QuotaOn(Guid clusterId) =>
        quotas.SingleOrDefault(q => q.ClusterId == clusterId)
            ?? throw new DomainException($"Allocation {SlurmAccount} has no hours on that cluster.");

    /// <summary>Refuses a transfer that is not between two different clusters or not of a positive number of hours.</summary>
    internal static void CheckTransfer(Guid fromClusterId, Guid toClusterId, decimal hours)
    {
        if (hours <= 0 || hours > 10_000_000 || decimal.Round(hours, 6) != hours || fromClusterId == toClusterId)
        {
            throw new DomainException("A transfer needs two different clusters, a positive number of hours and a reason.",
                new Dictionary<string, string> { ["Hours"] = "A positive number of hours between two different clusters." });
        }
    }

    /// <summary>Supplements and extensions are asked for by the PI (the team sees the allocation, the PI speaks for it).</summary>
    public bool MayRequestSupplement(Guid userId) => PiUserId == userId;

    public bool CanChangeSlurmAccount(DateTimeOffset now) => now < StartsAt && State == AllocationState.Pending;

    internal void ChangeSlurmAccount(string account, DateTimeOffset now, Guid actor)
    {
        if (!CanChangeSlurmAccount(now))
        {
            throw new DomainException("The Slurm account can be changed only before the allocation starts.");
        }
        CheckAccount(account);
        Record(now, actor, "account-changed", State, State, $"Slurm account changed from {SlurmAccount} to {account}");
        SlurmAccount = account;
    }

    internal void Extend(DateOnly newEnd, DateTimeOffset now, Guid actor, string detail)
    {
        if (!IsOpen)
        {
            throw new DomainException($"An allocation that is {State.ToString().ToLowerInvariant()} cannot be extended.");
        }
        if (newEnd <= EndDate)
        {
            throw new DomainException($"The new end date must be after the current one ({EndDate:yyyy-MM-dd}).");
        }
        Record(now, actor, "extended", State, State, $"End date moved from {EndDate:yyyy-MM-dd} to {newEnd:yyyy-MM-dd}. {detail}".Trim());
        EndDate = newEnd;
    }

    internal void Note(DateTimeOffset now, Guid? actor, string action, string detail) => Record(now, actor, action, State, State, detail);

    private void Move(DateTimeOffset now, Guid? actor, string action, AllocationState to, string reason, params AllocationState[] from)
    {
        if (!from.Contains(State))
        {
            throw new DomainException($"An allocation that is {State.ToString().ToLowerInvariant()} cannot be {action}.");
        }
        if (actor is not null)
        {
            reason = CheckReason(reason);
        }
        var was = State;
        State = to;
        Record(now, actor, action, was, to, reason.Trim());
    }

    /// <summary>The most an admin's reason may hold (the forms say so too).</summary>
    public const int MaxReasonLength = 500;

    /// <summary>An admin's reason for a change, trimmed; refused when empty or too long for the history.</summary>
    internal static string CheckReason(string? reason) => Reasons.Require(reason, MaxReasonLength, "the allocation's history");

    private void Record(DateTimeOffset now, Guid? actor, string action, AllocationState? from, AllocationState to, string detail) =>
        events.Add(new AllocationEvent(Id, now, actor, action, from, to, detail));

    /// <summary>Slurm account names: lowercase letters, digits, '-' and '_', starting with a letter, at most 30 characters.</summary>
    public static bool IsValidSlurmAccount(string? account) => account is not null && AccountPattern().IsMatch(account);

    private static void CheckAccount(string account)
    {
        if (!IsValidSlurmAccount(account))
        {
            throw new DomainException("A Slurm account is 2 to 30 lowercase letters, digits, '-' or '_', starting with a letter.");
        }
    }

    /// <summary>A readable base for a generated account: the first words of the title, e.g. <c>protein-folding</c>.</summary>
    public static string AccountBase(string projectTitle)
    {
        var words = NonAlnum().Split(projectTitle.ToLowerInvariant()).Where(w => w.Length > 0 && char.IsAsciiLetterOrDigit(w[0])).ToList();
        var text = string.Join('-', words);
        text = new string([.. text.Where(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')]);
        if (text.Length == 0 || !char.IsAsciiLetterLower(text[0]))
        {
            text = "p-" + text;
        }
        return text.Length > 20 ? text[..20].TrimEnd('-') : text;
    }

    [GeneratedRegex("^[a-z][a-z0-9_-]{1,29}$")]
    private static partial Regex AccountPattern();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NonAlnum();
}

/// <summary>One cluster of an allocation; the figures cache the ledger's sums and change in the same transaction as its entries.</summary>
public sealed class AllocationQuota
{
    public Guid AllocationId { get; private set; }

    public Guid ClusterId { get; private set; }

    /// <summary>The hours released: grants, supplements, net transfers, adjustments, released tranches and advances (net of deductions).</summary>
    public decimal GrantedHours { get; private set; }

    /// <summary>Hours of later tranches not yet released: committed in the cluster's capacity, not in the quota, not in the ledger.</summary>
    public decimal HeldHours { get; private set; }

    public decimal UsedHours { get; private set; }

    public decimal ExpiredHours { get; private set; }

    public decimal RemainingHours => GrantedHours - UsedHours - ExpiredHours;

    private AllocationQuota()
    {
    }

    internal AllocationQuota(Guid allocationId, Guid clusterId)
    {
        AllocationId = allocationId;
        ClusterId = clusterId;
    }

    /// <summary>Commits a later tranche's hours to the allocation without releasing them.</summary>
    internal void Hold(decimal hours) => HeldHours += hours;

    /// <summary>A held tranche leaves the holding (released into the quota by a ledger entry, or returned to capacity).</summary>
    internal void Unhold(decimal hours)
    {
        if (hours > HeldHours)
        {
            throw new InvalidOperationException($"Only {HeldHours} hours are held.");
        }
        HeldHours -= hours;
    }

    internal void Apply(LedgerEntryKind kind, decimal hours)
    {
        switch (kind)
        {
            case LedgerEntryKind.Usage:
                UsedHours -= hours;
                break;
            case LedgerEntryKind.Expiry:
                ExpiredHours -= hours;
                break;
            default:
                GrantedHours += hours;
                break;
        }
    }
}

/// <summary>A row of an allocation's history (append-only): state changes, supplements, extensions, corrections.</summary>
public sealed class AllocationEvent
{
    public long Id { get; private set; }

    public Guid AllocationId { get; private set; }

    public DateTimeOffset At { get; private set; }

    public Guid? ActorUserId { get; private set; }

    /// <summary>A verb such as <c>suspended</c> or <c>supplement-approved</c>.</summary>
    public string Action { get; private set; } = "";

    public AllocationState? FromState { get; private set; }

    public AllocationState ToState { get; private set; }

    public string Detail { get; private set; } = "";

    private AllocationEvent()
    {
    }

    internal AllocationEvent(Guid allocationId, DateTimeOffset at, Guid? actor, string action, AllocationState? from, AllocationState to, string detail)
    {
        AllocationId = allocationId;
        At = at;
        ActorUserId = actor;
        Action = action;
        FromState = from;
        ToState = to;
        Detail = detail.Length > 2000 ? detail[..2000] : detail;
    }
}

/// <summary>A notice already sent for an allocation (e.g. <c>used-80</c>), so each is sent once.</summary>
public sealed class AllocationNoticeSent
{
    public Guid AllocationId { get; private set; }

    public string Key { get; private set; } = "";

    public DateTimeOffset SentAt { get; private set; }

    private AllocationNoticeSent()
    {
    }

    internal AllocationNoticeSent(Guid allocationId, string key, DateTimeOffset at)
    {
        AllocationId = allocationId;
        Key = key;
        SentAt = at;
    }
}

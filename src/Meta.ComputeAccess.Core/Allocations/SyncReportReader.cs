using System.Globalization;
using System.Text.Json;

namespace Meta.ComputeAccess.Allocations;

/// <summary>One account of a sync report, as read (and checked) from the agent's JSON.</summary>
public sealed record SyncReportAccount(
    string? Account,
    string? AllocationId,
    SyncOutcome Outcome,
    bool InSlurm,
    long? LimitApplied,
    string? UsageResetEpoch,
    IReadOnlyList<string> MembersAdded,
    IReadOnlyList<string> MembersRemoved,
    IReadOnlyList<string> MembersInSlurm,
    long? UsageInSlurmMinutes,
    string? Error);

/// <summary>A sync report as read from the agent's JSON (contract: deploy/cluster/README.md).</summary>
public sealed record SyncReport(
    string? AgentVersion,
    string? PlanETag,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    bool DryRun,
    string? Error,
    IReadOnlyList<SyncReportAccount> Accounts);

/// <summary>The report, or why it cannot be taken (each problem names the field: <c>accounts[3].outcome: …</c>).</summary>
public sealed record SyncReportRead(SyncReport? Report, IReadOnlyList<string> Problems);

/// <summary>
/// Reads a sync report strictly: every field the portal keeps is checked for its type, range and length, and text for
/// characters a database or a page cannot hold (NUL and other control characters, broken surrogates). Unknown fields
/// are ignored (a newer agent may send more). Pure: no database, no clock but the one given.
/// </summary>
public static class SyncReportReader
{
    public const int MaxAccounts = 100_000;
    public const int MaxListLength = 10_000;
    public const int MaxProblems = 100;
    public const long MaxMinutes = 1_000_000_000_000_000;

    private static readonly string[] Outcomes = ["applied", "failed", "skipped"];

    public static SyncReportRead Read(ReadOnlyMemory<byte> body, DateTimeOffset now)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            return Refused("The body is not valid UTF-8 text.");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            return Refused($"The body is not valid JSON (UTF-8): {ex.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Refused("The body must be a JSON object.");
            }
            var problems = new Problems();
            var agentVersion = Text(root, "agentVersion", 100, problems, "");
            var planEtag = Text(root, "planEtag", 300, problems, "");
            var startedAt = Time(root, "startedAt", now, problems);
            var finishedAt = Time(root, "finishedAt", now, problems);
            if (startedAt is { } s && finishedAt is { } f && f < s)
            {
                problems.Add("finishedAt: before startedAt.");
            }
            var dryRun = Bool(root, "dryRun", problems, "", required: true);
            var error = Text(root, "error", 2000, problems, "");
            var accounts = new List<SyncReportAccount>();
            if (!root.TryGetProperty("accounts", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                problems.Add("accounts: required, a list (empty when the whole plan was refused).");
            }
            else if (list.GetArrayLength() > MaxAccounts)
            {
                problems.Add($"accounts: at most {MaxAccounts:N0} entries.");
            }
            else
            {
                var index = 0;
                foreach (var entry in list.EnumerateArray())
                {
                    if (ReadAccount(entry, $"accounts[{index}].", problems) is { } account)
                    {
                        accounts.Add(account);
                    }
                    index++;
                }
            }
            return problems.Count > 0
                ? new SyncReportRead(null, problems.List)
                : new SyncReportRead(new SyncReport(agentVersion, planEtag, startedAt!.Value, finishedAt!.Value, dryRun!.Value, error, accounts), []);
        }
    }

    private static SyncReportAccount? ReadAccount(JsonElement entry, string at, Problems problems)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{at[..^1]}: must be an object.");
            return null;
        }
        var before = problems.Count;
        var account = Text(entry, "account", 200, problems, at);
        var allocationId = Text(entry, "allocationId", 200, problems, at);
        SyncOutcome? outcome = null;
        if (!entry.TryGetProperty("outcome", out var o) || o.ValueKind != JsonValueKind.String || !Outcomes.Contains(o.GetString(), StringComparer.Ordinal))
        {
            problems.Add($"{at}outcome: required, one of \"applied\", \"failed\", \"skipped\".");
        }
        else
        {
            outcome = Enum.Parse<SyncOutcome>(o.GetString()!, ignoreCase: true);
        }
        var inSlurm = Bool(entry, "inSlurm", problems, at, required: true);
        var limit = Minutes(entry, "limitApplied", problems, at);
        var epoch = Text(entry, "usageResetEpoch", 200, problems, at);
        var added = Logins(entry, "membersAdded", problems, at);
        var removed = Logins(entry, "membersRemoved", problems, at);
        var inSlurmMembers = Logins(entry, "membersInSlurm", problems, at);
        var used = Minutes(entry, "usageInSlurmTresMinutes", problems, at);
        var error = Text(entry, "error", 2000, problems, at);
        return problems.Count > before
            ? null
            : new SyncReportAccount(account, allocationId, outcome!.Value, inSlurm!.Value, limit, epoch, added, removed, inSlurmMembers, used, error);
    }

    /// <summary>An optional string (absent or null: null), at most <paramref name="max"/> characters of printable text.</summary>
    private static string? Text(JsonElement parent, string name, int max, Problems problems, string at)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            problems.Add($"{at}{name}: must be a string or null.");
            return null;
        }
        return Checked(value, $"{at}{name}", max, problems);
    }

    private static string? Checked(JsonElement value, string field, int max, Problems problems)
    {
        string text;
        try
        {
            text = value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            problems.Add($"{field}: not valid text.");
            return null;
        }
        if (text.Length > max)
        {
            problems.Add($"{field}: at most {max} characters.");
            return null;
        }
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c) || !PlainText.AllowedInLines(c))
            {
                problems.Add($"{field}: contains a control character or broken text.");
                return null;
            }
        }
        return text;
    }

    private static IReadOnlyList<string> Logins(JsonElement parent, string name, Problems problems, string at)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > MaxListLength)
        {
            problems.Add($"{at}{name}: must be a list of at most {MaxListLength:N0} logins.");
            return [];
        }
        var logins = new List<string>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || item.GetString() is { Length: 0 })
            {
                problems.Add($"{at}{name}[{index}]: must be a non-empty string.");
                return [];
            }
            if (Checked(item, $"{at}{name}[{index}]", 100, problems) is not { } login)
            {
                return [];
            }
            logins.Add(login);
            index++;
        }
        return logins;
    }

    private static bool? Bool(JsonElement parent, string name, Problems problems, string at, bool required)
    {
        if (parent.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }
        if (required || (parent.TryGetProperty(name, out var present) && present.ValueKind != JsonValueKind.Null))
        {
            problems.Add($"{at}{name}: {(required ? "required, " : "")}true or false.");
        }
        return null;
    }

    /// <summary>An optional whole number of minutes, 0 to 10^15.</summary>
    private static long? Minutes(JsonElement parent, string name, Problems problems, string at)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var minutes) && minutes is >= 0 and <= MaxMinutes)
        {
            return minutes;
        }
        problems.Add($"{at}{name}: a whole number from 0 to 10^15, or null.");
        return null;
    }

    private static DateTimeOffset? Time(JsonElement parent, string name, DateTimeOffset now, Problems problems)
    {
        if (parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            && value.GetString() is { Length: <= 40 } text && text.Contains('T', StringComparison.Ordinal)
            && (text.EndsWith('Z') || text.LastIndexOfAny(['+', '-']) > text.IndexOf('T', StringComparison.Ordinal))
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
        {
            if (time.Year >= 2000 && time <= now.AddDays(1))
            {
                return time.ToUniversalTime();
            }
            problems.Add($"{name}: not between the year 2000 and a day from now.");
            return null;
        }
        problems.Add($"{name}: required, a time with its offset such as \"2026-11-28T10:00:00Z\".");
        return null;
    }

    private static SyncReportRead Refused(string problem) => new(null, [problem]);

    /// <summary>At most <see cref="MaxProblems"/> are listed; the count says how many there were.</summary>
    private sealed class Problems
    {
        private readonly List<string> list = [];

        public int Count { get; private set; }

        public IReadOnlyList<string> List => Count > list.Count ? [.. list, $"… and {Count - list.Count} more."] : list;

        public void Add(string problem)
        {
            if (list.Count < MaxProblems)
            {
                list.Add(problem);
            }
            Count++;
        }
    }
}

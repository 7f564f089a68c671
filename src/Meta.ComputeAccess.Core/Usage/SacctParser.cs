using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Meta.ComputeAccess.Usage;

/// <summary>
/// Reads the body of <c>POST /api/v1/usage</c>: <c>sacct --parsable2</c> output or JSON lines.
/// </summary>
/// <remarks>
/// <para>Rules (the cluster API contract, docs/cluster-api.md):</para>
/// <list type="bullet">
/// <item>sacct header: columns in any order, matched case-insensitively; extra columns are ignored;
/// JobID, Account, User, Start, End, ElapsedRaw, AllocTRES and State are required; Submit and Partition are optional
/// (AllocTRES and Partition are kept with each job, interned, for the cluster's charge policy). A header lacking one
/// rejects the whole body (line 1), since no line could be read correctly.</item>
/// <item>A JobID containing '.' is a job step (<c>123.batch</c>, <c>123.extern</c>, <c>123.0</c>,
/// <c>123_4.batch</c>, <c>123+1.0</c>): not charged, since its job line already covers the allocation.
/// Array tasks (<c>123_4</c>) and het components (<c>123+1</c>) are jobs of their own.</item>
/// <item>GPU count from AllocTRES: Slurm prints the total as <c>gres/gpu=N</c> and, when GPUs have a type,
/// a breakdown <c>gres/gpu:h100=N</c> as well. The plain total is used when present; otherwise the typed
/// entries are summed. So <c>gres/gpu:h100=4,gres/gpu=4</c> is 4 GPUs, not 8. Keys like
/// <c>gres/gpumem</c> are not GPUs. No GPU entry means 0 GPUs and 0 GPU-hours (the job is still a record).</item>
/// <item>Finished states are charged: COMPLETED, FAILED, CANCELLED (incl. <c>CANCELLED by 123</c>), TIMEOUT,
/// OUT_OF_MEMORY, NODE_FAIL, PREEMPTED, BOOT_FAIL, DEADLINE. Unfinished states (RUNNING, PENDING, REQUEUED,
/// SUSPENDED, RESIZING, …) and any job whose End is <c>Unknown</c> are pending. Other states are rejected.</item>
/// <item>The optional <c>Submit</c> column names the job together with its id (<see cref="JobKey"/>): Slurm's ids come
/// back, submit times tell the jobs apart. Steps carry their own start as Submit, which does not matter: they are skipped.
/// A finished job (id and submit time) seen twice in one body: the later line wins (sacct prints the newest record
/// last) and the earlier line is reported in <see cref="UsageParseResult.Duplicates"/>.</item>
/// <item>Only plausible jobs are charged: a finished job whose End is before its Start or its Submit, later than the portal's clock
/// plus <see cref="UsageParseOptions.MaxClockSkew"/>, whose ElapsedRaw exceeds End − Start by more than
/// <see cref="UsageParseOptions.ElapsedSlack"/>, or which holds more GPUs than the cluster has, is rejected.</item>
/// <item>Times <c>yyyy-MM-ddTHH:mm:ss</c> are in <see cref="UsageParseOptions.ClusterTimeZone"/>; a time
/// repeated by a daylight-saving fall-back is read as standard time; one skipped by spring-forward is
/// rejected. A trailing <c>Z</c> or <c>±HH:mm</c> is honoured.</item>
/// </list>
/// <para>Speed: the body is read in blocks and split on spans; only job ids and (interned) account and
/// user names become strings. Bad lines cost an exception only in the JSON variant.</para>
/// </remarks>
public static class SacctParser
{
    public static UsageParseResult Parse(TextReader reader, UsageBodyFormat format, UsageParseOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var session = new Session(format, options ?? UsageParseOptions.Default, sink: null);
        using var lines = new LineBuffer();
        while (true)
        {
            var read = reader.Read(lines.WritableTail());
            if (!lines.Advance(read, session))
            {
                break;
            }
        }
        return session.Result();
    }

    /// <summary>Reads a UTF-8 body; invalid UTF-8 throws <see cref="DecoderFallbackException"/> (nothing is half read).</summary>
    public static UsageParseResult Parse(Stream body, UsageBodyFormat format, UsageParseOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var reader = Utf8Reader(body);
        return Parse(reader, format, options);
    }

    /// <summary>For request bodies: Kestrel refuses synchronous reads.</summary>
    public static Task<UsageParseResult> ParseAsync(TextReader reader, UsageBodyFormat format, UsageParseOptions? options = null, CancellationToken cancellationToken = default) =>
        ParseAsync(reader, format, options, sink: null, cancellationToken);

    /// <summary>
    /// As <see cref="ParseAsync(TextReader, UsageBodyFormat, UsageParseOptions?, CancellationToken)"/>, handing each finished job to
    /// <paramref name="sink"/> as soon as its line is read, while the rest of the body is still arriving.
    /// </summary>
    public static async Task<UsageParseResult> ParseAsync(TextReader reader, UsageBodyFormat format, UsageParseOptions? options, IUsageRecordSink? sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var session = new Session(format, options ?? UsageParseOptions.Default, sink);
        using var lines = new LineBuffer();
        while (true)
        {
            var read = await reader.ReadAsync(lines.WritableTailMemory(), cancellationToken).ConfigureAwait(false);
            if (!lines.Advance(read, session))
            {
                break;
            }
        }
        return session.Result();
    }

    /// <summary>Reads a UTF-8 body; invalid UTF-8 throws <see cref="DecoderFallbackException"/> (nothing is half read).</summary>
    public static Task<UsageParseResult> ParseAsync(Stream body, UsageBodyFormat format, UsageParseOptions? options = null, CancellationToken cancellationToken = default) =>
        ParseAsync(body, format, options, sink: null, cancellationToken);

    /// <summary>Reads a UTF-8 body, handing each finished job to <paramref name="sink"/> as soon as its line is read.</summary>
    public static async Task<UsageParseResult> ParseAsync(Stream body, UsageBodyFormat format, UsageParseOptions? options, IUsageRecordSink? sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var reader = Utf8Reader(body);
        return await ParseAsync(reader, format, options, sink, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Strict UTF-8: <see cref="Encoding.UTF8"/> would replace invalid bytes with U+FFFD and read on, and detecting a byte
    /// order mark would switch to UTF-16 on <c>FF FE</c>. A UTF-8 byte order mark is read as U+FEFF and skipped by the session.
    /// </summary>
    private static StreamReader Utf8Reader(Stream body) =>
        new(body, StrictUtf8, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16, leaveOpen: true);

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Column names in the order of the internal field slots: the required ones, then the optional <c>Submit</c> and <c>Partition</c>.</summary>
    internal static readonly string[] Columns = ["JobID", "Account", "User", "Start", "End", "ElapsedRaw", "AllocTRES", "State", "Submit", "Partition"];

    /// <summary>How many of <see cref="Columns"/> (the first ones) every body must have.</summary>
    private const int RequiredCount = 8;

    private const int SlotJobId = 0, SlotAccount = 1, SlotUser = 2, SlotStart = 3, SlotEnd = 4, SlotElapsed = 5, SlotTres = 6, SlotState = 7, SlotSubmit = 8, SlotPartition = 9;

    /// <summary>Lines longer than this are rejected without being buffered whole.</summary>
    private const int MaxLineLength = 1 << 20;

    /// <summary>Block buffer that hands complete lines (without CR/LF) to the session.</summary>
    private sealed class LineBuffer : IDisposable
    {
        private char[] _buffer = ArrayPool<char>.Shared.Rent(1 << 16);
        private int _start;
        private int _end;
        private bool _discardingLongLine;

        // PrepareTail may replace _buffer, so it must run before _buffer is read.
        public Span<char> WritableTail()
        {
            var tail = PrepareTail();
            return _buffer.AsSpan(tail);
        }

        public Memory<char> WritableTailMemory()
        {
            var tail = PrepareTail();
            return _buffer.AsMemory(tail);
        }

        private int PrepareTail()
        {
            if (_end < _buffer.Length)
            {
                return _end;
            }
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            else
            {
                var bigger = ArrayPool<char>.Shared.Rent(_buffer.Length * 2);
                _buffer.AsSpan(0, _end).CopyTo(bigger);
                ArrayPool<char>.Shared.Return(_buffer);
                _buffer = bigger;
            }
            return _end;
        }

        /// <summary>Takes <paramref name="read"/> new chars; returns false at the end of input.</summary>
        public bool Advance(int read, Session session)
        {
            if (read == 0)
            {
                if (_discardingLongLine)
                {
                    session.LongLine();
                }
                else if (_end > _start)
                {
                    session.Line(TrimCr(_buffer.AsSpan(_start, _end - _start)));
                }
                _start = _end = 0;
                return false;
            }
            var scanFrom = _end;
            _end += read;
            while (true)
            {
                var pending = _buffer.AsSpan(scanFrom, _end - scanFrom);
                var newline = pending.IndexOf('\n');
                if (newline < 0)
                {
                    break;
                }
                var lineEnd = scanFrom + newline;
                if (_discardingLongLine || lineEnd - _start > MaxLineLength)
                {
                    _discardingLongLine = false;
                    session.LongLine();
                }
                else
                {
                    session.Line(TrimCr(_buffer.AsSpan(_start, lineEnd - _start)));
                }
                _start = scanFrom = lineEnd + 1;
            }
            if (_end - _start > MaxLineLength)
            {
                // Keep reading to the next newline without growing the buffer further.
                _discardingLongLine = true;
                _start = _end = 0;
            }
            return true;
        }

        private static ReadOnlySpan<char> TrimCr(ReadOnlySpan<char> line) =>
            line.Length > 0 && line[^1] == '\r' ? line[..^1] : line;

        public void Dispose() => ArrayPool<char>.Shared.Return(_buffer);
    }

    private sealed class Session(UsageBodyFormat format, UsageParseOptions options, IUsageRecordSink? sink)
    {
        private readonly TimeZoneInfo _zone = options.ClusterTimeZone;
        private readonly bool _zoneIsUtc = options.ClusterTimeZone.Equals(TimeZoneInfo.Utc);
        private readonly List<UsageRecord> _chargeable = [];
        private readonly List<UsageRecord> _pending = [];
        private readonly List<DuplicateJob> _duplicates = [];
        private readonly List<RejectedLine> _rejected = [];
        // Where each finished job is in _chargeable. By job id first, ordinal, which takes .NET's fast string hashing
        // (a JobKey key would hash every id with the randomized hash, and the dictionary is a third of the parse); an id
        // seen again with another submit time (Slurm reused it) is a job of its own, found by its whole key instead.
        private readonly Dictionary<string, int> _chargeableById = new(StringComparer.Ordinal);
        private readonly Dictionary<JobKey, int> _chargeableReusedId = [];
        private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
        private int _lineNumber;
        private int _skippedSteps;
        private int _rejectedCount;
        private bool _headerAccepted = format == UsageBodyFormat.JsonLines;
        private bool _headerFailed;

        // sacct header: column index -> slot (or -1), and how many columns a line must have.
        private int[] _slotOfColumn = [];
        private int _lastNeededColumn;

        // Cache of the UTC offset for one local hour: sacct lines come roughly in time order.
        private long _cachedHour = long.MinValue;
        private TimeSpan _cachedOffset;

        // JSON scratch space, grown on demand.
        private byte[] _utf8 = [];
        private char[] _values = [];

        public UsageParseResult Result() => new(
            _headerAccepted,
            _chargeable,
            _pending,
            _duplicates,
            _skippedSteps,
            _rejected,
            _rejectedCount,
            _lineNumber);

        public void LongLine()
        {
            _lineNumber++;
            Reject($"line is longer than {MaxLineLength} characters");
        }

        public void Line(ReadOnlySpan<char> line)
        {
            _lineNumber++;
            if (_lineNumber == 1 && line.Length > 0 && line[0] == '\uFEFF')
            {
                line = line[1..];
            }
            if (_headerFailed || line.IsWhiteSpace())
            {
                return;
            }
            if (format == UsageBodyFormat.JsonLines)
            {
                JsonLine(line);
            }
            else if (!_headerAccepted)
            {
                Header(line);
            }
            else
            {
                SacctLine(line);
            }
        }

        private void Reject(string reason)
        {
            _rejectedCount++;
            if (_rejected.Count < options.MaxRejectionsListed)
            {
                _rejected.Add(new RejectedLine(_lineNumber, reason));
            }
        }

        private void Header(ReadOnlySpan<char> line)
        {
            var columns = new List<int>();
            Span<bool> found = stackalloc bool[Columns.Length];
            var column = 0;
            foreach (var range in line.Split('|'))
            {
                var name = line[range].Trim();
                var slot = -1;
                for (var s = 0; s < Columns.Length; s++)
                {
                    if (!found[s] && name.Equals(Columns[s], StringComparison.OrdinalIgnoreCase))
                    {
                        slot = s;
                        found[s] = true;
                        _lastNeededColumn = column;
                        break;
                    }
                }
                columns.Add(slot);
                column++;
            }
            var missing = new List<string>();
            for (var s = 0; s < RequiredCount; s++)
            {
                if (!found[s])
                {
                    missing.Add(Columns[s]);
                }
            }
            if (missing.Count > 0)
            {
                _headerFailed = true;
                Reject($"the header line lacks required column(s) {string.Join(", ", missing)}; send `sacct --parsable2` output with its header " +
                       $"(no --noheader) and --format including {string.Join(",", Columns)}");
                return;
            }
            _slotOfColumn = [.. columns];
            _headerAccepted = true;
        }

        private void SacctLine(ReadOnlySpan<char> line)
        {
            var fields = line.Count('|') + 1;
            if (fields != _slotOfColumn.Length)
            {
                Reject(fields < _slotOfColumn.Length
                    ? $"expected {_slotOfColumn.Length} '|'-separated fields as in the header, found {fields} (truncated line?)"
                    : $"expected {_slotOfColumn.Length} '|'-separated fields as in the header, found {fields} (a '|' inside a field such as JobName?)");
                return;
            }
            // A column the header lacks (Submit or Partition, which are optional) reads as empty.
            Span<Range> slots = stackalloc Range[Columns.Length];
            slots.Clear();
            var position = 0;
            for (var column = 0; column <= _lastNeededColumn; column++)
            {
                var next = line[position..].IndexOf('|');
                var end = next < 0 ? line.Length : position + next;
                var slot = _slotOfColumn[column];
                if (slot >= 0)
                {
                    slots[slot] = new Range(position, end);
                }
                position = end + 1;
            }
            Accept(line[slots[SlotJobId]], line[slots[SlotAccount]], line[slots[SlotUser]], line[slots[SlotStart]],
                line[slots[SlotEnd]], line[slots[SlotElapsed]], line[slots[SlotTres]], line[slots[SlotState]], line[slots[SlotSubmit]], line[slots[SlotPartition]]);
        }

        private void JsonLine(ReadOnlySpan<char> line)
        {
            var maxBytes = Encoding.UTF8.GetMaxByteCount(line.Length);
            if (_utf8.Length < maxBytes)
            {
                _utf8 = new byte[Math.Max(maxBytes, 4096)];
                _values = new char[_utf8.Length];
            }
            var byteCount = Encoding.UTF8.GetBytes(line, _utf8);
            Span<Range> slots = stackalloc Range[Columns.Length];
            slots.Clear();
            Span<bool> present = stackalloc bool[Columns.Length];
            present.Clear();
            var used = 0;
            try
            {
                var json = new Utf8JsonReader(_utf8.AsSpan(0, byteCount), isFinalBlock: true, state: default);
                if (!json.Read() || json.TokenType != JsonTokenType.StartObject)
                {
                    Reject("expected a JSON object on this line");
                    return;
                }
                while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
                {
                    var slot = JsonSlot(ref json);
                    json.Read();
                    if (slot < 0)
                    {
                        json.Skip();
                        continue;
                    }
                    switch (json.TokenType)
                    {
                        case JsonTokenType.String:
                            var written = json.CopyString(_values.AsSpan(used));
                            slots[slot] = new Range(used, used + written);
                            used += written;
                            break;
                        case JsonTokenType.Number:
                            var raw = json.ValueSpan;
                            var chars = Encoding.UTF8.GetChars(raw, _values.AsSpan(used));
                            slots[slot] = new Range(used, used + chars);
                            used += chars;
                            break;
                        case JsonTokenType.Null:
                            slots[slot] = new Range(used, used);
                            break;
                        default:
                            Reject($"field {Columns[slot]} must be a string or a number");
                            return;
                    }
                    present[slot] = true;
                }
                if (json.TokenType != JsonTokenType.EndObject || json.Read())
                {
                    Reject("expected exactly one JSON object on this line");
                    return;
                }
            }
            catch (JsonException e)
            {
                Reject($"invalid JSON at character {e.BytePositionInLine + 1}");
                return;
            }
            if (present[..RequiredCount].Contains(false))
            {
                var missing = new List<string>();
                for (var s = 0; s < RequiredCount; s++)
                {
                    if (!present[s])
                    {
                        missing.Add(Columns[s]);
                    }
                }
                Reject($"missing field(s) {string.Join(", ", missing)}");
                return;
            }
            ReadOnlySpan<char> values = _values;
            Accept(values[slots[SlotJobId]], values[slots[SlotAccount]], values[slots[SlotUser]], values[slots[SlotStart]],
                values[slots[SlotEnd]], values[slots[SlotElapsed]], values[slots[SlotTres]], values[slots[SlotState]], values[slots[SlotSubmit]], values[slots[SlotPartition]]);
        }

        private static int JsonSlot(ref Utf8JsonReader json)
        {
            Span<char> name = stackalloc char[16];
            if (json.HasValueSequence || json.ValueSpan.Length > name.Length * 2)
            {
                return -1;
            }
            int length;
            try
            {
                length = json.CopyString(name);
            }
            catch (ArgumentException)
            {
                return -1;
            }
            for (var s = 0; s < Columns.Length; s++)
            {
                if (name[..length].Equals(Columns[s], StringComparison.OrdinalIgnoreCase))
                {
                    return s;
                }
            }
            return -1;
        }

        private void Accept(
            ReadOnlySpan<char> jobId,
            ReadOnlySpan<char> account,
            ReadOnlySpan<char> user,
            ReadOnlySpan<char> start,
            ReadOnlySpan<char> end,
            ReadOnlySpan<char> elapsed,
            ReadOnlySpan<char> tres,
            ReadOnlySpan<char> state,
            ReadOnlySpan<char> submit,
            ReadOnlySpan<char> partition)
        {
            jobId = jobId.Trim();
            if (jobId.IsEmpty)
            {
                Reject("JobID is empty");
                return;
            }
            if (jobId.Contains('.'))
            {
                // Steps are checked before anything else: their fields never decide a charge.
                _skippedSteps++;
                return;
            }
            account = account.Trim();
            if (account.IsEmpty)
            {
                Reject($"job {jobId}: Account is empty; every job needs its Slurm account to be charged");
                return;
            }
            var stateWord = state.Trim();
            var cut = stateWord.IndexOfAny(' ', '+');
            if (cut >= 0)
            {
                stateWord = stateWord[..cut];
            }
            var finishedState = FinishedState(stateWord);
            var pendingState = finishedState is null ? PendingState(stateWord) : null;
            if (finishedState is null && pendingState is null)
            {
                Reject($"job {jobId}: unknown State '{state.Trim()}'");
                return;
            }
            if (!long.TryParse(elapsed.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var elapsedSeconds))
            {
                Reject($"job {jobId}: ElapsedRaw '{elapsed.Trim()}' is not a whole number of seconds");
                return;
            }
            if (!TryGpuCount(tres, out var gpus, out var tresError))
            {
                Reject($"job {jobId}: {tresError}");
                return;
            }
            if (!TryTime(start, out var startTime, out var startError))
            {
                Reject($"job {jobId}: Start {startError}");
                return;
            }
            if (!TryTime(end, out var endTime, out var endError))
            {
                Reject($"job {jobId}: End {endError}");
                return;
            }
            if (!TryTime(submit, out var submitTime, out var submitError))
            {
                Reject($"job {jobId}: Submit {submitError}");
                return;
            }
            if (finishedState is not null && endTime is { } endsAt && Implausible(submitTime, startTime, endsAt, elapsedSeconds, gpus) is { } implausible)
            {
                Reject($"job {jobId}: {implausible}; nothing was charged for it");
                return;
            }
            var jobIdString = jobId.ToString();
            var record = new UsageRecord(_lineNumber, jobIdString, submitTime, Intern(account), Intern(user.Trim()), startTime, endTime,
                elapsedSeconds, gpus, finishedState ?? pendingState!, Intern(tres.Trim()), Intern(partition.Trim()));
            if (finishedState is null || endTime is null)
            {
                _pending.Add(record);
                return;
            }
            ref var first = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_chargeableById, jobIdString, out var seen);
            if (!seen)
            {
                first = _chargeable.Count;
                _chargeable.Add(record);
                sink?.Add(record);
                return;
            }
            // The id was seen: the same job again (same submit time), or another job that reuses the id.
            ref var index = ref first;
            if (_chargeable[first].Submit != submitTime)
            {
                index = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_chargeableReusedId, record.Key, out seen);
                if (!seen)
                {
                    index = _chargeable.Count;
                    _chargeable.Add(record);
                    sink?.Add(record);
                    return;
                }
            }
            _duplicates.Add(new DuplicateJob(_chargeable[index].LineNumber, jobIdString, _lineNumber));
            _chargeable[index] = record;
            sink?.Replaced(record);
        }

        /// <summary>Why a finished job cannot have run as reported, or null. Each would charge hours nobody used.</summary>
        private string? Implausible(DateTimeOffset? submit, DateTimeOffset? start, DateTimeOffset end, long elapsedSeconds, int gpus)
        {
            if (start is { } started && end < started)
            {
                return $"End {Utc(end)} is before Start {Utc(started)}";
            }
            if (submit is { } submitted && submitted > end)
            {
                return $"Submit {Utc(submitted)} is after End {Utc(end)}";
            }
            if (options.Now is { } now && end > now + options.MaxClockSkew)
            {
                return $"End {Utc(end)} is in the future (the portal's clock reads {Utc(now)}; at most {options.MaxClockSkew.TotalMinutes:0.#} minutes ahead is accepted)";
            }
            var longest = (start is { } from ? end - from : TimeSpan.Zero) + options.ElapsedSlack;
            if (elapsedSeconds > longest.TotalSeconds)
            {
                return start is null
                    ? $"ElapsedRaw {elapsedSeconds} s for a job without a Start"
                    : $"ElapsedRaw {elapsedSeconds} s is longer than End − Start ({(long)(end - start.Value).TotalSeconds} s)";
            }
            if (options.ClusterGpus is { } most && gpus > most)
            {
                return $"{gpus} GPUs, more than the cluster's {most}";
            }
            return null;
        }

        private static string Utc(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

        private string Intern(ReadOnlySpan<char> name)
        {
            var lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
            if (lookup.TryGetValue(name, out var known))
            {
                return known;
            }
            var added = name.ToString();
            _names[added] = added;
            return added;
        }

        private static string? FinishedState(ReadOnlySpan<char> state) => state switch
        {
            "COMPLETED" => "COMPLETED",
            "FAILED" => "FAILED",
            "CANCELLED" => "CANCELLED",
            "TIMEOUT" => "TIMEOUT",
            "OUT_OF_MEMORY" => "OUT_OF_MEMORY",
            "NODE_FAIL" => "NODE_FAIL",
            "PREEMPTED" => "PREEMPTED",
            "BOOT_FAIL" => "BOOT_FAIL",
            "DEADLINE" => "DEADLINE",
            _ => null,
        };

        private static string? PendingState(ReadOnlySpan<char> state) => state switch
        {
            "RUNNING" => "RUNNING",
            "PENDING" => "PENDING",
            "REQUEUED" => "REQUEUED",
            "SUSPENDED" => "SUSPENDED",
            "RESIZING" => "RESIZING",
            "REQUEUE_HOLD" => "REQUEUE_HOLD",
            "REQUEUE_FED" => "REQUEUE_FED",
            "SPECIAL_EXIT" => "SPECIAL_EXIT",
            "STOPPED" => "STOPPED",
            "COMPLETING" => "COMPLETING",
            "CONFIGURING" => "CONFIGURING",
            _ => null,
        };

        /// <summary>The rule in the class remarks: plain <c>gres/gpu=N</c> is the total, else the sum of typed entries.</summary>
        private static bool TryGpuCount(ReadOnlySpan<char> tres, out int gpus, out string? error)
        {
            gpus = 0;
            error = null;
            var plain = -1;
            long typed = 0;
            var rest = tres;
            while (!rest.IsEmpty)
            {
                var comma = rest.IndexOf(',');
                var entry = comma < 0 ? rest : rest[..comma];
                rest = comma < 0 ? [] : rest[(comma + 1)..];
                if (!entry.StartsWith("gres/gpu"))
                {
                    continue;
                }
                var equals = entry.IndexOf('=');
                if (equals < 0)
                {
                    continue;
                }
                var key = entry[..equals];
                var isPlain = key.Length == "gres/gpu".Length;
                if (!isPlain && key["gres/gpu".Length] != ':')
                {
                    continue; // gres/gpumem, gres/gpuutil: not a GPU count
                }
                if (!int.TryParse(entry[(equals + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                {
                    error = $"AllocTRES entry '{entry}' does not hold a whole GPU count";
                    return false;
                }
                if (isPlain)
                {
                    plain = count;
                }
                else
                {
                    typed += count;
                }
            }
            if (plain < 0 && typed > int.MaxValue)
            {
                error = "AllocTRES GPU count is too large";
                return false;
            }
            gpus = plain >= 0 ? plain : (int)typed;
            return true;
        }

        private bool TryTime(ReadOnlySpan<char> text, out DateTimeOffset? value, out string? error)
        {
            value = null;
            error = null;
            text = text.Trim();
            if (text.IsEmpty || text.SequenceEqual("Unknown") || text.SequenceEqual("None"))
            {
                return true;
            }
            if (text.Length < 19 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':'
                || !TryDigits(text[..4], out var year) || !TryDigits(text.Slice(5, 2), out var month) || !TryDigits(text.Slice(8, 2), out var day)
                || !TryDigits(text.Slice(11, 2), out var hour) || !TryDigits(text.Slice(14, 2), out var minute) || !TryDigits(text.Slice(17, 2), out var second)
                || year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
            {
                error = $"'{text}' is not a time like 2026-03-01T10:00:00 (is SLURM_TIME_FORMAT set on the cluster?)";
                return false;
            }
            // Slurm counts time from 1970 (0 prints as None); the bounds also keep an offset from leaving DateTimeOffset's range.
            if (year is < 1970 or > 9998)
            {
                error = $"'{text}' is not a time a cluster can report";
                return false;
            }
            var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified);
            var suffix = text[19..];
            if (suffix.IsEmpty)
            {
                if (_zoneIsUtc)
                {
                    value = new DateTimeOffset(local, TimeSpan.Zero);
                    return true;
                }
                if (!TryZoneOffset(local, out var offset))
                {
                    error = $"'{text}' does not exist in time zone {_zone.Id} (skipped by a daylight-saving change)";
                    return false;
                }
                value = new DateTimeOffset(local, offset).ToUniversalTime();
                return true;
            }
            if (suffix is "Z")
            {
                value = new DateTimeOffset(local, TimeSpan.Zero);
                return true;
            }
            if (suffix.Length == 6 && suffix[0] is '+' or '-' && suffix[3] == ':'
                && TryDigits(suffix.Slice(1, 2), out var offsetHours) && TryDigits(suffix.Slice(4, 2), out var offsetMinutes)
                && offsetHours <= 14 && offsetMinutes <= 59)
            {
                var explicitOffset = new TimeSpan(offsetHours, offsetMinutes, 0);
                value = new DateTimeOffset(local, suffix[0] == '-' ? -explicitOffset : explicitOffset).ToUniversalTime();
                return true;
            }
            error = $"'{text}' is not a time like 2026-03-01T10:00:00, optionally followed by Z or +HH:mm";
            return false;
        }

        private bool TryZoneOffset(DateTime local, out TimeSpan offset)
        {
            var hour = local.Ticks / TimeSpan.TicksPerHour;
            if (hour == _cachedHour)
            {
                offset = _cachedOffset;
                return true;
            }
            if (_zone.IsInvalidTime(local))
            {
                offset = default;
                return false;
            }
            offset = _zone.GetUtcOffset(local);
            // Only hours untouched by a daylight-saving change may share one offset.
            var hourStart = new DateTime(hour * TimeSpan.TicksPerHour, DateTimeKind.Unspecified);
            var hourEnd = hourStart.AddHours(1).AddTicks(-1);
            if (!_zone.IsInvalidTime(hourStart) && !_zone.IsAmbiguousTime(hourStart) && !_zone.IsInvalidTime(hourEnd)
                && !_zone.IsAmbiguousTime(hourEnd) && _zone.GetUtcOffset(hourStart) == _zone.GetUtcOffset(hourEnd))
            {
                _cachedHour = hour;
                _cachedOffset = offset;
            }
            return true;
        }

        private static bool TryDigits(ReadOnlySpan<char> digits, out int value)
        {
            value = 0;
            foreach (var c in digits)
            {
                var d = c - '0';
                if ((uint)d > 9)
                {
                    return false;
                }
                value = (value * 10) + d;
            }
            return true;
        }
    }
}

using System.Text;
using Meta.ComputeAccess.Identity;

namespace Meta.ComputeAccess.Compliance;

/// <summary>One entry of a list as read from its CSV.</summary>
public sealed record ScreeningListRow(string EntryId, ScreeningEntryKind Kind, string Name, IReadOnlyList<string> AltNames, IReadOnlyList<string> Countries, string SourceList);

/// <summary>
/// Which header names each column of a list in the generic layout (<see cref="ScreeningListFormat.Generic"/>): a column
/// left empty is found by its usual names (docs/compliance.md). Header names are compared without regard to case.
/// </summary>
public sealed record ScreeningColumnMap(string? EntryId = null, string? Name = null, string? AltNames = null, string? Country = null, string? SourceList = null, string? Kind = null)
{
    public const int MaxHeaderLength = 100;

    public static readonly ScreeningColumnMap Usual = new();

    public bool IsEmpty => new[] { EntryId, Name, AltNames, Country, SourceList, Kind }.All(string.IsNullOrWhiteSpace);
}

/// <summary>A whole list file, read and checked: nothing of it is imported unless all of it is good.</summary>
public sealed record ParsedScreeningList(ScreeningListFormat Format, IReadOnlyList<ScreeningListRow> Rows);

/// <summary>
/// Reads a screening list from CSV (RFC 4180: commas, double-quoted fields that may hold commas, quotes and line
/// breaks), columns found by their header. The file must be UTF-8; every problem is collected (up to
/// <see cref="MaxReportedProblems"/>) and refuses the whole file with a <see cref="DomainException"/> that names the lines.
/// </summary>
public static class ScreeningListCsv
{
    public const int MaxReportedProblems = 10;
    public const int MaxFieldLength = 100_000;
    public const int MaxNameLength = 1_000;
    public const int MaxEntryIdLength = 200;
    public const int MaxSourceLength = 500;
    public const int MaxAltNames = 500;

    /// <summary>The accepted names of each column of the generic layout (lower case), first match wins.</summary>
    private static readonly string[] IdColumns = ["id", "entry_id", "entity_number", "_id", "uid", "reference"];
    private static readonly string[] NameColumns = ["name", "full_name", "entity_name", "primary_name"];
    private static readonly string[] AltNameColumns = ["alt_names", "aliases", "alias", "alternate_names", "other_names"];
    private static readonly string[] CountryColumns = ["country", "countries", "nationality", "nationalities"];
    private static readonly string[] SourceColumns = ["source", "source_list", "list", "dataset"];
    private static readonly string[] KindColumns = ["type", "schema", "entity_type"];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly Lazy<Dictionary<string, string>> CountryByName = new(() =>
        Countries.All.DistinctBy(c => c.Name.ToUpperInvariant()).ToDictionary(c => c.Name.ToUpperInvariant(), c => c.Code, StringComparer.Ordinal));

    /// <summary>
    /// Reads <paramref name="content"/> as <paramref name="format"/> (or the layout its header shows); at most
    /// <paramref name="maxEntries"/> entries. A <paramref name="columns"/> map that names any column makes it the generic layout.
    /// </summary>
    public static ParsedScreeningList Parse(byte[] content, ScreeningListFormat format, int maxEntries, ScreeningColumnMap? columns = null)
    {
        columns ??= ScreeningColumnMap.Usual;
        if (!columns.IsEmpty && format is not (ScreeningListFormat.Auto or ScreeningListFormat.Generic))
        {
            throw new DomainException("Columns are mapped by header only for the \"other CSV\" format; the two documented exports have fixed columns. Clear the mapping or choose \"Other CSV\".");
        }
        if (!columns.IsEmpty)
        {
            format = ScreeningListFormat.Generic;
        }
        var text = Decode(content);
        var records = Records(text).GetEnumerator();
        if (!records.MoveNext())
        {
            throw new DomainException("The file is empty: a screening list needs a header line and at least one entry.");
        }
        var (headerLine, header, headerProblem) = records.Current;
        if (headerProblem is not null)
        {
            throw new DomainException($"Line {headerLine}: {headerProblem}");
        }
        var headerIndex = header.Select((h, i) => (Name: h.Trim().TrimStart('\uFEFF').ToLowerInvariant(), Index: i))
            .GroupBy(c => c.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Index, StringComparer.Ordinal);
        var layout = Layout.For(format, headerIndex, columns);

        var rows = new List<ScreeningListRow>();
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var problemCount = 0;
        void Problem(int line, string message)
        {
            problemCount++;
            if (problems.Count < MaxReportedProblems)
            {
                problems.Add($"line {line}: {message}");
            }
        }
        while (records.MoveNext())
        {
            var (line, fields, problem) = records.Current;
            if (problem is not null)
            {
                Problem(line, problem);
                continue;
            }
            if (fields.Count == 1 && fields[0].Length == 0)
            {
                continue; // A blank line.
            }
            if (fields.Count != header.Count)
            {
                Problem(line, $"{fields.Count} fields where the header has {header.Count}");
                continue;
            }
            if (rows.Count >= maxEntries)
            {
                throw new DomainException($"The file has more than {maxEntries:N0} entries, more than an import takes (Compliance:MaxImportEntries). Nothing was imported.");
            }
            if (layout.Read(fields, out var row) is { } rowProblem)
            {
                Problem(line, rowProblem);
                continue;
            }
            if (!seen.Add(row!.EntryId))
            {
                Problem(line, $"the entry id '{Shorten(row.EntryId)}' appears twice in the file");
                continue;
            }
            rows.Add(row);
        }
        if (problemCount > 0)
        {
            throw new DomainException(
                $"The file has {problemCount:N0} {(problemCount == 1 ? "problem" : "problems")}, so nothing was imported: " + string.Join("; ", problems) +
                (problemCount > problems.Count ? $"; and {problemCount - problems.Count:N0} more." : "."));
        }
        if (rows.Count == 0)
        {
            throw new DomainException("The file has a header but no entries: nothing was imported.");
        }
        return new ParsedScreeningList(layout.Format, rows);
    }

    /// <summary>The file as text, or a refusal that says where it stops being UTF-8.</summary>
    private static string Decode(byte[] content)
    {
        if (content.Length >= 2 && ((content[0] == 0xFF && content[1] == 0xFE) || (content[0] == 0xFE && content[1] == 0xFF)))
        {
            throw new DomainException("The file is UTF-16 text; a screening list is imported as UTF-8. Save or export it as UTF-8 (Excel: \"CSV UTF-8\") and import it again.");
        }
        try
        {
            var text = StrictUtf8.GetString(content);
            return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
        }
        catch (DecoderFallbackException ex)
        {
            var at = Math.Clamp(ex.Index, 0, content.Length - 1);
            var line = 1 + content.AsSpan(0, at).Count((byte)'\n');
            var bytes = ex.BytesUnknown is { Length: > 0 } unknown ? string.Join(' ', unknown.Take(4).Select(b => $"0x{b:X2}")) : $"0x{content[at]:X2}";
            throw new DomainException(
                $"The file is not UTF-8 text: line {line} holds bytes ({bytes}) that are not valid UTF-8, as in a file saved as Latin-1 or Windows-1252. " +
                "Save or export it as UTF-8 (Excel: \"CSV UTF-8\") and import it again. Nothing was imported.");
        }
    }

    /// <summary>The records of the text with the line each starts on, or the problem that ends it.</summary>
    private static IEnumerable<(int Line, List<string> Fields, string? Problem)> Records(string text)
    {
        var i = 0;
        var line = 1;
        while (i < text.Length)
        {
            var start = line;
            var fields = new List<string>();
            var field = new StringBuilder();
            string? problem = null;
            var quoted = false;
            var endOfRecord = false;
            while (i < text.Length && !endOfRecord)
            {
                var c = text[i];
                if (quoted)
                {
                    if (c == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }
                        quoted = false;
                        i++;
                        if (i < text.Length && text[i] is not (',' or '\r' or '\n'))
                        {
                            problem ??= "text after a closing quote (a quote inside a field is written twice: \"\")";
                        }
                        continue;
                    }
                    if (c == '\n')
                    {
                        line++;
                    }
                    field.Append(c);
                    i++;
                }
                else if (c == '"' && field.Length == 0)
                {
                    quoted = true;
                    i++;
                }
                else if (c == ',')
                {
                    fields.Add(field.ToString());
                    field.Clear();
                    i++;
                }
                else if (c is '\r' or '\n')
                {
                    i += c == '\r' && i + 1 < text.Length && text[i + 1] == '\n' ? 2 : 1;
                    line++;
                    endOfRecord = true;
                }
                else
                {
                    field.Append(c);
                    i++;
                }
                if (field.Length > MaxFieldLength)
                {
                    problem ??= $"a field longer than {MaxFieldLength:N0} characters";
                    field.Clear();
                }
                if (!PlainText.AllowedInLines(c))
                {
                    problem ??= $"a control character (U+{(int)c:X4})";
                }
            }
            if (quoted)
            {
                problem ??= "a quoted field is never closed (a missing \")";
            }
            fields.Add(field.ToString());
            yield return (start, fields, problem);
        }
    }

    private static string Shorten(string value) => value.Length > 60 ? value[..60] + "…" : value;

    /// <summary>Splits a multi-valued field (<c>;</c> between values), trimmed, empty values dropped.</summary>
    private static List<string> Values(string field) =>
        [.. field.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal)];

    /// <summary>An ISO code from a code or an English country name; null for anything else (regions, "Soviet Union").</summary>
    private static string? CountryCode(string value)
    {
        var v = value.Trim().ToUpperInvariant();
        if (v.Length == 2 && Countries.IsKnown(v))
        {
            return v;
        }
        return CountryByName.Value.GetValueOrDefault(v);
    }

    /// <summary>Where the columns of one layout are, and how a row of it becomes an entry.</summary>
    private sealed class Layout
    {
        public ScreeningListFormat Format { get; private init; }

        private int id;
        private int name;
        private int alt = -1;
        private int[] countries = [];
        private int address = -1;
        private int source = -1;
        private int kind = -1;

        public static Layout For(ScreeningListFormat format, Dictionary<string, int> columns, ScreeningColumnMap map)
        {
            if (format == ScreeningListFormat.Auto)
            {
                format = columns.ContainsKey("_id") && columns.ContainsKey("source") && columns.ContainsKey("name")
                    ? ScreeningListFormat.ConsolidatedScreeningList
                    : columns.ContainsKey("id") && columns.ContainsKey("schema") && columns.ContainsKey("name")
                        ? ScreeningListFormat.OpenSanctions
                        : ScreeningListFormat.Generic;
            }
            int? Column(params string[] names) => names.Where(columns.ContainsKey).Select(n => (int?)columns[n]).FirstOrDefault();
            // A mapped header must be there; an unmapped column is looked for by its usual names.
            int? Mapped(string? header, string what, string[] usual, bool required)
            {
                if (string.IsNullOrWhiteSpace(header))
                {
                    return required ? Required(what, usual) : Column(usual);
                }
                var key = header.Trim().ToLowerInvariant();
                return columns.TryGetValue(key, out var index)
                    ? index
                    : throw new DomainException($"The header has no column '{Shorten(header.Trim())}' (mapped as the {what}). The columns are: {string.Join(", ", columns.OrderBy(c => c.Value).Take(40).Select(c => Shorten(c.Key)))}.");
            }
            int Required(string what, params string[] names) => Column(names)
                ?? throw new DomainException(format switch
                {
                    ScreeningListFormat.ConsolidatedScreeningList => $"This is not the Consolidated Screening List's CSV export: its header has no {names[0]} column. Choose another format or check the file.",
                    ScreeningListFormat.OpenSanctions => $"This is not an OpenSanctions simple CSV: its header has no {names[0]} column. Choose another format or check the file.",
                    _ => $"The header names no {what} column (accepted: {string.Join(", ", names)}). The first line of the file must name the columns.",
                });
            return format switch
            {
                ScreeningListFormat.ConsolidatedScreeningList => new Layout
                {
                    Format = format,
                    id = Required("id", "_id"),
                    name = Required("name", "name"),
                    alt = Column("alt_names") ?? -1,
                    countries = [.. new[] { "nationalities", "citizenships" }.Where(columns.ContainsKey).Select(c => columns[c])],
                    // CSL addresses end with their country: "No. 5 Road, Beijing, 100070, CN; …".
                    address = Column("addresses") ?? -1,
                    source = Required("source", "source"),
                    kind = Column("type") ?? -1,
                },
                ScreeningListFormat.OpenSanctions => new Layout
                {
                    Format = format,
                    id = Required("id", "id"),
                    name = Required("name", "name"),
                    alt = Column("aliases") ?? -1,
                    countries = Column("countries") is { } c ? [c] : [],
                    source = Column("dataset") ?? -1,
                    kind = Required("schema", "schema"),
                },
                _ => new Layout
                {
                    Format = ScreeningListFormat.Generic,
                    id = Mapped(map.EntryId, "entry id", IdColumns, required: true)!.Value,
                    name = Mapped(map.Name, "name", NameColumns, required: true)!.Value,
                    alt = Mapped(map.AltNames, "alternate names", AltNameColumns, required: false) ?? -1,
                    countries = Mapped(map.Country, "country", CountryColumns, required: false) is { } c ? [c] : [],
                    source = Mapped(map.SourceList, "source list", SourceColumns, required: false) ?? -1,
                    kind = Mapped(map.Kind, "entry type", KindColumns, required: false) ?? -1,
                },
            };
        }

        /// <summary>The entry of one row, or why the row cannot be one.</summary>
        public string? Read(List<string> fields, out ScreeningListRow? row)
        {
            row = null;
            var entryId = fields[id].Trim();
            var primary = Collapse(fields[name]);
            if (entryId.Length == 0)
            {
                return "no entry id";
            }
            if (entryId.Length > MaxEntryIdLength)
            {
                return $"an entry id longer than {MaxEntryIdLength} characters";
            }
            if (primary.Length == 0)
            {
                return "no name";
            }
            if (primary.Length > MaxNameLength)
            {
                return $"a name longer than {MaxNameLength:N0} characters";
            }
            var altNames = alt < 0 ? [] : Values(fields[alt]).Select(Collapse).Where(n => n.Length > 0 && n != primary).Distinct(StringComparer.Ordinal).ToList();
            if (altNames.Count > MaxAltNames)
            {
                return $"more than {MaxAltNames} alternate names";
            }
            if (altNames.Any(n => n.Length > MaxNameLength))
            {
                return $"an alternate name longer than {MaxNameLength:N0} characters";
            }
            var codes = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var column in countries)
            {
                foreach (var value in fields[column].Split([';', ','], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    if (CountryCode(value) is { } code)
                    {
                        codes.Add(code);
                    }
                }
            }
            if (address >= 0)
            {
                foreach (var a in Values(fields[address]))
                {
                    if (CountryCode(a[(a.LastIndexOf(',') + 1)..]) is { } code)
                    {
                        codes.Add(code);
                    }
                }
            }
            var sourceList = source < 0 ? "" : Collapse(fields[source]);
            if (sourceList.Length > MaxSourceLength)
            {
                sourceList = sourceList[..MaxSourceLength];
            }
            row = new ScreeningListRow(entryId, KindOf(kind < 0 ? "" : fields[kind]), primary, altNames, [.. codes], sourceList);
            return null;
        }

        private static string Collapse(string value) => string.Join(' ', value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

        /// <summary>CSL types (Individual, Entity, Vessel, Aircraft), OpenSanctions schemata (Person, Company, …) and plain words.</summary>
        private static ScreeningEntryKind KindOf(string value) => value.Trim().ToLowerInvariant() switch
        {
            "individual" or "person" or "people" => ScreeningEntryKind.Person,
            "entity" or "organization" or "organisation" or "company" or "legalentity" or "publicbody" or "institution" => ScreeningEntryKind.Organization,
            "vessel" or "aircraft" or "airplane" or "cryptowallet" or "security" or "address" => ScreeningEntryKind.Other,
            _ => ScreeningEntryKind.Unknown,
        };
    }
}

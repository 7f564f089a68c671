namespace Meta.ComputeAccess.Compliance;

/// <summary>The CSV layouts an import understands; <see cref="Auto"/> tells them apart by their header.</summary>
public enum ScreeningListFormat
{
    Auto,

    /// <summary>The US Consolidated Screening List's CSV export (trade.gov): <c>_id, source, type, name, alt_names, addresses, …</c>.</summary>
    ConsolidatedScreeningList,

    /// <summary>OpenSanctions' "simple" CSV (<c>targets.simple.csv</c>): <c>id, schema, name, aliases, countries, dataset, …</c>.</summary>
    OpenSanctions,

    /// <summary>Any CSV whose header names a name and an id column (see docs/compliance.md for the accepted names).</summary>
    Generic,
}

/// <summary>What a list entry is; people are screened against persons, institutions against organisations, both against unknown.</summary>
public enum ScreeningEntryKind
{
    Unknown,
    Person,
    Organization,

    /// <summary>Vessels, aircraft and the like: kept with the list, never matched.</summary>
    Other,
}

/// <summary>One imported version of a list. Append-only: a newer import of the same list supersedes it for screening, and both stay.</summary>
public sealed class ScreeningListVersion
{
    public const int MaxListNameLength = 100;

    public Guid Id { get; private set; }

    /// <summary>The list's name lower-cased: versions with the same key are versions of one list.</summary>
    public string ListKey { get; private set; } = "";

    public string ListName { get; private set; } = "";

    /// <summary>1 for the first import of the list, then counting up.</summary>
    public int Number { get; private set; }

    public ScreeningListFormat Format { get; private set; }

    public string FileName { get; private set; } = "";

    /// <summary>SHA-256 of the imported file, hex: which file this version is, for the record.</summary>
    public string Sha256 { get; private set; } = "";

    public int EntryCount { get; private set; }

    /// <summary>How many names (primary and alternate, of persons and organisations) are matched against.</summary>
    public int NameCount { get; private set; }

    public DateTimeOffset ImportedAt { get; private set; }

    public Guid? ImportedByUserId { get; private set; }

    private ScreeningListVersion()
    {
    }

    internal static ScreeningListVersion Create(string listName, int number, ScreeningListFormat format, string fileName, string sha256, int entries, int names, Guid? actor, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        ListName = listName,
        ListKey = KeyOf(listName),
        Number = number,
        Format = format,
        FileName = fileName,
        Sha256 = sha256,
        EntryCount = entries,
        NameCount = names,
        ImportedAt = now,
        ImportedByUserId = actor,
    };

    /// <summary>The list a name denotes: "US CSL" and "us csl " are the same list.</summary>
    public static string KeyOf(string listName) => string.Join(' ', (listName ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();
}

/// <summary>One entry of a list version as imported (append-only, like its version).</summary>
public sealed class ScreeningListEntry
{
    public Guid VersionId { get; private set; }

    /// <summary>Position in the imported file (0-based); with the version, the entry's key.</summary>
    public int Ordinal { get; private set; }

    /// <summary>The list's own id of the entry (CSL <c>_id</c>, OpenSanctions <c>id</c>).</summary>
    public string EntryId { get; private set; } = "";

    public ScreeningEntryKind Kind { get; private set; }

    public string Name { get; private set; } = "";

    public List<string> AltNames { get; private set; } = [];

    /// <summary>ISO country codes the list gives for the entry (addresses, nationality, citizenship).</summary>
    public List<string> Countries { get; private set; } = [];

    /// <summary>The source list within the file (CSL <c>source</c>, OpenSanctions <c>dataset</c>): "Entity List (EL) - Bureau of Industry and Security".</summary>
    public string SourceList { get; private set; } = "";

    private ScreeningListEntry()
    {
    }
}

/// <summary>
/// A normalised name of an entry of a current list version, for matching: the only rows the trigram index covers.
/// Derived data, rebuilt when a list gets a new version (the entries themselves are kept).
/// </summary>
public sealed class ScreeningName
{
    public Guid VersionId { get; private set; }

    public int Ordinal { get; private set; }

    /// <summary>0 for the entry's name, 1… for its alternate names.</summary>
    public int Position { get; private set; }

    public ScreeningEntryKind Kind { get; private set; }

    /// <summary><see cref="NameNormalizer.Normalize"/> of the name.</summary>
    public string Normalized { get; private set; } = "";

    private ScreeningName()
    {
    }
}

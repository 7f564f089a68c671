using System.Diagnostics;
using System.Security.Cryptography;
using Hangfire;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Meta.ComputeAccess.Compliance;

/// <summary>A list file as the import page receives it.</summary>
public sealed record ScreeningListUpload(string ListName, ScreeningListFormat Format, string FileName, long Length, Stream Content, ScreeningColumnMap? Columns = null);

/// <summary>What an import stored.</summary>
public sealed record ImportedList(Guid VersionId, string ListName, int Number, ScreeningListFormat Format, int Entries, int Names);

/// <summary>
/// Imports screening lists: each import of a list is its next version, kept for the record; the newest version of
/// each list is what screening matches against. The whole file is read and checked first (<see cref="ScreeningListCsv"/>),
/// then stored in one transaction with binary COPY (entries, and the normalised names the trigram index covers), so a
/// refused or failed import leaves nothing behind. After it commits, every open proposal and active allocation is
/// screened again by <see cref="ComplianceRescreenJob"/>.
/// </summary>
public sealed partial class ScreeningLists(
    PortalDbContext db,
    AuditLog audit,
    IBackgroundJobClient jobs,
    IOptions<ComplianceOptions> options,
    TimeProvider clock,
    ILogger<ScreeningLists> log)
{
    public async Task<ImportedList> ImportAsync(ScreeningListUpload upload, Guid actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var listName = CheckListName(upload.ListName, upload.Format);
        var max = options.Value.MaxImportBytes;
        if (upload.Length > max)
        {
            throw TooLarge(upload.Length, max);
        }
        var watch = Stopwatch.StartNew();
        var bytes = await ReadAsync(upload.Content, max, cancellationToken);
        var parsed = ScreeningListCsv.Parse(bytes, upload.Format, options.Value.MaxImportEntries, upload.Columns);
        var fileName = Path.GetFileName((upload.FileName ?? "").Replace('\\', '/'));
        var imported = await db.SaveAsync(
            () => StoreAsync(listName, parsed, fileName.Length > 260 ? fileName[..260] : fileName, Convert.ToHexStringLower(SHA256.HashData(bytes)), actor, cancellationToken),
            cancellationToken);
        LogImported(imported.VersionId, imported.Entries, imported.Names, watch.ElapsedMilliseconds);
        ComplianceRescreenJob.Enqueue(jobs, imported.VersionId);
        return imported;
    }

    /// <summary>
    /// Stores <paramref name="parsed"/> as the next version of <paramref name="listName"/> in the caller's transaction
    /// (the import's, or the demo seed's) and retires the previous version's names from matching.
    /// </summary>
    internal async Task<ImportedList> StoreAsync(string listName, ParsedScreeningList parsed, string fileName, string sha256, Guid? actor, CancellationToken cancellationToken)
    {
        var key = ScreeningListVersion.KeyOf(listName);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        // Two imports of one list at once would both take the same next number: the second waits here.
        await using (var gate = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('screening-list:' || @key, 0))", connection))
        {
            gate.Parameters.AddWithValue("key", key);
            await gate.ExecuteNonQueryAsync(cancellationToken);
        }
        var number = 1 + (await db.ScreeningListVersions.Where(v => v.ListKey == key).MaxAsync(v => (int?)v.Number, cancellationToken) ?? 0);
        var names = Names(parsed.Rows);
        var version = ScreeningListVersion.Create(listName, number, parsed.Format, fileName, sha256, parsed.Rows.Count, names.Count, actor, clock.GetUtcNow());
        db.ScreeningListVersions.Add(version);
        await db.SaveChangesAsync(cancellationToken);

        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY screening_list_entries (version_id, ordinal, entry_id, kind, name, alt_names, countries, source_list) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            copy.Timeout = TimeSpan.FromMinutes(10);
            for (var i = 0; i < parsed.Rows.Count; i++)
            {
                var row = parsed.Rows[i];
                copy.StartRow();
                copy.Write(version.Id, NpgsqlDbType.Uuid);
                copy.Write(i, NpgsqlDbType.Integer);
                copy.Write(row.EntryId, NpgsqlDbType.Varchar);
                copy.Write(row.Kind.ToString(), NpgsqlDbType.Varchar);
                copy.Write(row.Name, NpgsqlDbType.Varchar);
                copy.Write(row.AltNames as string[] ?? [.. row.AltNames], NpgsqlDbType.Array | NpgsqlDbType.Text);
                copy.Write(row.Countries as string[] ?? [.. row.Countries], NpgsqlDbType.Array | NpgsqlDbType.Text);
                copy.Write(row.SourceList, NpgsqlDbType.Varchar);
            }
            await copy.CompleteAsync(cancellationToken);
        }
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY screening_names (version_id, ordinal, position, kind, normalized) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            copy.Timeout = TimeSpan.FromMinutes(10);
            foreach (var (ordinal, position, kind, normalized) in names)
            {
                copy.StartRow();
                copy.Write(version.Id, NpgsqlDbType.Uuid);
                copy.Write(ordinal, NpgsqlDbType.Integer);
                copy.Write(position, NpgsqlDbType.Integer);
                copy.Write(kind.ToString(), NpgsqlDbType.Varchar);
                copy.Write(normalized, NpgsqlDbType.Varchar);
            }
            await copy.CompleteAsync(cancellationToken);
        }
        await using (var retire = new NpgsqlCommand(
            "DELETE FROM screening_names WHERE version_id IN (SELECT id FROM screening_list_versions WHERE list_key = @key AND id <> @id)", connection) { CommandTimeout = 600 })
        {
            retire.Parameters.AddWithValue("key", key);
            retire.Parameters.AddWithValue("id", version.Id);
            await retire.ExecuteNonQueryAsync(cancellationToken);
        }
        audit.Record(actor, "compliance.list-imported", "screening-list", version.Id.ToString(),
            $"Imported version {number} of the screening list {listName} ({parsed.Format}) from {fileName}: {parsed.Rows.Count:N0} entries, {names.Count:N0} names");
        return new ImportedList(version.Id, listName, number, parsed.Format, parsed.Rows.Count, names.Count);
    }

    /// <summary>The distinct normalised names of each person, organisation or unknown entry (vessels and the like are not matched).</summary>
    private static List<(int Ordinal, int Position, ScreeningEntryKind Kind, string Normalized)> Names(IReadOnlyList<ScreeningListRow> rows)
    {
        var names = new List<(int, int, ScreeningEntryKind, string)>(rows.Count * 2);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (row.Kind == ScreeningEntryKind.Other)
            {
                continue;
            }
            seen.Clear();
            var position = 0;
            foreach (var name in row.AltNames.Prepend(row.Name))
            {
                var normalized = NameNormalizer.Normalize(name);
                if (normalized.Length > 0 && seen.Add(normalized))
                {
                    names.Add((i, position++, row.Kind, normalized));
                }
            }
        }
        return names;
    }

    private static string CheckListName(string? name, ScreeningListFormat format)
    {
        var trimmed = string.Join(' ', (name ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (trimmed.Length == 0)
        {
            trimmed = format switch
            {
                ScreeningListFormat.ConsolidatedScreeningList => "US Consolidated Screening List",
                ScreeningListFormat.OpenSanctions => "OpenSanctions",
                _ => "",
            };
        }
        if (trimmed.Length == 0)
        {
            throw new DomainException("Name the list (for example \"US Consolidated Screening List\"): a new import of the same name replaces its previous version.",
                new Dictionary<string, string> { ["ListName"] = "Name the list." });
        }
        if (trimmed.Length > ScreeningListVersion.MaxListNameLength || PlainText.HasControl(trimmed))
        {
            throw new DomainException($"A list name is plain text of at most {ScreeningListVersion.MaxListNameLength} characters.",
                new Dictionary<string, string> { ["ListName"] = "Choose a shorter name." });
        }
        return trimmed;
    }

    /// <summary>The whole file, refusing it once it is longer than <paramref name="max"/> (a stream may say less than it holds).</summary>
    private static async Task<byte[]> ReadAsync(Stream content, long max, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81_920];
        int read;
        while ((read = await content.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > max)
            {
                throw TooLarge(buffer.Length + read, max);
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static DomainException TooLarge(long length, long max) =>
        new($"The file is larger than an import takes ({max / 1024.0 / 1024.0:N0} MB, Compliance:MaxImportBytes{(length > max ? $"; this one is at least {length / 1024.0 / 1024.0:N1} MB" : "")}). Nothing was imported.");

    [LoggerMessage(Level = LogLevel.Information, Message = "Imported screening list version {VersionId}: {Entries} entries, {Names} names in {ElapsedMs} ms")]
    private partial void LogImported(Guid versionId, int entries, int names, long elapsedMs);
}

using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Meta.ComputeAccess.Compliance;

/// <summary>A name to screen, normalised (<see cref="NameNormalizer"/>).</summary>
public sealed record ScreenedName(ScreenedParty Party, string Normalized);

/// <summary>A list entry whose name (or an alternate name) scored at least the threshold against screened name number <see cref="Subject"/>.</summary>
public sealed record ListMatch(int Subject, Guid VersionId, int Ordinal, string ListKey, string EntryId, string EntryName, string MatchedName, int Score);

/// <summary>
/// Finds the entries of the current list versions that match names: PostgreSQL's trigram index (pg_trgm) picks the
/// candidates, <see cref="NameMatcher"/> scores them, and what reaches <see cref="ComplianceOptions.MatchThreshold"/> is a
/// match. People are matched against persons and entries of unknown kind, institutions against organisations and unknown.
/// </summary>
/// <remarks>
/// A candidate is a list name with a trigram similarity of at least <see cref="ComplianceOptions.CandidateSimilarity"/>
/// to the screened name, or one containing it or contained in it (word similarity ≥ <see cref="WordSimilarity"/>);
/// at most <see cref="CandidatesPerName"/> per name, the most similar first.
/// </remarks>
public sealed class ScreeningMatches(PortalDbContext db, IOptions<ComplianceOptions> options)
{
    public const double WordSimilarity = 0.6;
    public const int CandidatesPerName = 100;

    /// <summary>Names per statement: each is one index probe; a batch keeps a long re-screen in bounded statements.</summary>
    private const int Batch = 500;

    public async Task<IReadOnlyList<ListMatch>> FindAsync(IReadOnlyList<ScreenedName> names, CancellationToken cancellationToken)
    {
        var found = new List<ListMatch>();
        if (names.Count == 0)
        {
            return found;
        }
        var threshold = options.Value.MatchThreshold;
        await using var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        // Transaction-local: the thresholds of the trigram operators below.
        await using (var settings = new NpgsqlCommand(
            "SELECT set_config('pg_trgm.similarity_threshold', @s, true), set_config('pg_trgm.word_similarity_threshold', @w, true)", connection))
        {
            settings.Parameters.AddWithValue("s", options.Value.CandidateSimilarity.ToString(System.Globalization.CultureInfo.InvariantCulture));
            settings.Parameters.AddWithValue("w", WordSimilarity.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await settings.ExecuteNonQueryAsync(cancellationToken);
        }
        for (var offset = 0; offset < names.Count; offset += Batch)
        {
            var batch = names.Skip(offset).Take(Batch).ToList();
            var best = new Dictionary<(int Subject, Guid Version, int Ordinal), ListMatch>();
            await using var command = new NpgsqlCommand("""
                SELECT s.i, c.version_id, c.ordinal, c.normalized, e.entry_id, e.name, v.list_key
                FROM unnest(@q, @p) WITH ORDINALITY AS s(q, party, i)
                CROSS JOIN LATERAL (
                    SELECT n.version_id, n.ordinal, n.normalized
                    FROM screening_names n
                    WHERE (n.normalized % s.q OR n.normalized %> s.q OR n.normalized <% s.q)
                      AND (n.kind = 'Unknown' OR n.kind = CASE WHEN s.party = 'Person' THEN 'Person' ELSE 'Organization' END)
                    ORDER BY greatest(similarity(n.normalized, s.q), word_similarity(s.q, n.normalized), word_similarity(n.normalized, s.q)) DESC
                    LIMIT @limit
                ) c
                JOIN screening_list_entries e ON e.version_id = c.version_id AND e.ordinal = c.ordinal
                JOIN screening_list_versions v ON v.id = c.version_id
                """, connection) { CommandTimeout = 300 };
            command.Parameters.Add(new NpgsqlParameter<string[]>("q", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. batch.Select(n => n.Normalized)] });
            command.Parameters.Add(new NpgsqlParameter<string[]>("p", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. batch.Select(n => n.Party.ToString())] });
            command.Parameters.AddWithValue("limit", CandidatesPerName);
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var subject = offset + (int)reader.GetInt64(0) - 1;
                    var candidate = reader.GetString(3);
                    var score = NameMatcher.Score(names[subject].Normalized, candidate);
                    if (score < threshold)
                    {
                        continue;
                    }
                    var key = (subject, reader.GetGuid(1), reader.GetInt32(2));
                    if (!best.TryGetValue(key, out var kept) || kept.Score < score)
                    {
                        best[key] = new ListMatch(subject, key.Item2, key.Item3, reader.GetString(6), reader.GetString(4), reader.GetString(5), candidate, score);
                    }
                }
            }
            found.AddRange(best.Values);
        }
        if (own is not null)
        {
            await own.CommitAsync(cancellationToken);
        }
        return found;
    }
}

using System.Text;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Meta.ComputeAccess.Privacy;

/// <summary>
/// Replaces a closed account's email address and name with its pseudonym in every text column of every table
/// (text, varchar, citext, jsonb, text arrays), found from <c>information_schema</c> when it runs, so a table added
/// later is covered without a change here. History tables are rewritten under the declared purpose
/// <see cref="PrivacySql.Pseudonymise"/>, which lets text change and nothing else. Runs inside the caller's transaction.
/// </summary>
public sealed class TextPseudonymisation(PortalDbContext db)
{
    /// <summary>
    /// Tables the pass leaves alone, and why: the account row itself (<c>PortalUser.Close</c> rewrites it field by field,
    /// and another person's row must never be touched by a name they share); the restricted-party lists, which are
    /// copies of public legal lists, not anyone's account data; the usage records, which hold what clusters sent (job
    /// ids, Slurm accounts and logins, never a name or an address) and are the largest table by far, and the per-user
    /// totals of them (<c>allocation_user_usage</c>, keyed by the same logins); EF's own history.
    /// </summary>
    public static readonly IReadOnlySet<string> Skipped = new HashSet<string>(StringComparer.Ordinal)
    {
        "users", "screening_list_versions", "screening_list_entries", "screening_names", "usage_records", "allocation_user_usage", "__ef_migrations_history",
    };

    /// <summary>A name shorter than this (or of one word) is too likely to be part of other words and other people's text to replace everywhere.</summary>
    public const int MinimumNameLength = 5;

    public sealed record Column(string Table, string Name, string Type);

    /// <summary>Every text-like column of the portal's tables (schema <c>public</c>), as the database has them now.</summary>
    public async Task<IReadOnlyList<Column>> TextColumnsAsync(CancellationToken cancellationToken)
    {
        var columns = await db.Database.SqlQuery<Column>($"""
            SELECT c.table_name AS "Table", c.column_name AS "Name", c.udt_name AS "Type"
            FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
            WHERE c.table_schema = 'public' AND c.udt_name IN ('text', 'varchar', 'citext', 'jsonb', 'json', 'bpchar', '_text', '_varchar')
              AND c.is_generated = 'NEVER'
              -- A partition is read through its parent (usage_records' months), never on its own.
              AND NOT EXISTS (SELECT FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace
                              WHERE n.nspname = 'public' AND k.relname = c.table_name AND k.relispartition)
            ORDER BY c.table_name, c.column_name
            """).ToListAsync(cancellationToken);
        return columns;
    }

    /// <summary>
    /// A case-insensitive PostgreSQL regular expression for each thing to erase: the address exactly (not inside a
    /// longer one), and the name as whole words with any spacing, when it is long enough to be the person's.
    /// </summary>
    public static IReadOnlyList<string> Patterns(string? email, IEnumerable<string?> names)
    {
        var patterns = new List<string>();
        if (!string.IsNullOrWhiteSpace(email))
        {
            patterns.Add(@"(?<![[:alnum:]._%+-])" + Escape(email.Trim()) + @"(?![[:alnum:]_-]|\.[[:alnum:]])");
        }
        foreach (var name in names.Select(n => (n ?? "").Trim()).Where(n => n.Length >= MinimumNameLength && n.Contains(' ', StringComparison.Ordinal)).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var words = name.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Escape);
            patterns.Add(@"(?<![[:alnum:]])" + string.Join(@"[[:space:]]+", words) + @"(?![[:alnum:]])");
        }
        return patterns;
    }

    /// <summary>Replaces every match of <paramref name="patterns"/> with <paramref name="pseudonym"/>; returns rows changed per table.</summary>
    public async Task<IReadOnlyDictionary<string, int>> ReplaceAsync(IReadOnlyList<string> patterns, string pseudonym, CancellationToken cancellationToken)
    {
        var changed = new SortedDictionary<string, int>(StringComparer.Ordinal);
        if (patterns.Count == 0)
        {
            return changed;
        }
        await db.Database.ExecuteSqlRawAsync(PrivacySql.Declare(PrivacySql.Pseudonymise), cancellationToken);
        var pattern = string.Join('|', patterns.Select(p => $"(?:{p})"));
        foreach (var column in await TextColumnsAsync(cancellationToken))
        {
            if (Skipped.Contains(column.Table))
            {
                continue;
            }
            var rows = await db.Database.ExecuteSqlRawAsync(Update(column), [new NpgsqlParameter("pattern", pattern), new NpgsqlParameter("pseudonym", pseudonym)], cancellationToken);
            if (rows > 0)
            {
                changed[column.Table] = changed.GetValueOrDefault(column.Table) + rows;
            }
        }
        return changed;
    }

    private static string Update(Column column)
    {
        var table = Quote(column.Table);
        var name = Quote(column.Name);
        return column.Type switch
        {
            "jsonb" or "json" => $"UPDATE {table} SET {name} = regexp_replace({name}::text, @pattern, @pseudonym, 'gi')::{column.Type} WHERE {name}::text ~* @pattern",
            "_text" or "_varchar" => $"UPDATE {table} SET {name} = ARRAY(SELECT regexp_replace(x, @pattern, @pseudonym, 'gi') FROM unnest({name}) WITH ORDINALITY AS u(x, i) ORDER BY i) WHERE array_to_string({name}, chr(31)) ~* @pattern",
            _ => $"UPDATE {table} SET {name} = regexp_replace({name}, @pattern, @pseudonym, 'gi') WHERE {name} ~* @pattern",
        };
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>Every character but letters, digits and spaces is escaped: in PostgreSQL's regular expressions a backslash before one is that character.</summary>
    private static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length * 2);
        foreach (var c in text)
        {
            if (!char.IsLetterOrDigit(c) && c != ' ')
            {
                escaped.Append('\\');
            }
            escaped.Append(c);
        }
        return escaped.ToString();
    }
}

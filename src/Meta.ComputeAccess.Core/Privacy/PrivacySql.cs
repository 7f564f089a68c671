using Meta.ComputeAccess.Data;

namespace Meta.ComputeAccess.Privacy;

/// <summary>
/// The one way history tables change after they are written (docs/decisions/erasure-pseudonymises-history-in-place.md).
/// <see cref="AppendOnlyTables"/>' trigger function keeps refusing everything, except two declared purposes, each set with
/// <c>SET LOCAL portal.history_purpose</c> inside the transaction that needs it (so it ends with that transaction):
/// <list type="bullet">
/// <item><c>pseudonymise</c> (closing an account): an UPDATE that changes text values only (text, varchar, citext,
/// jsonb and text arrays); ids, times, hours, states stay as they were, so ledger sums and decisions cannot move.</item>
/// <item><c>remove-drafts</c> (closing an account, retention): a DELETE of a <c>proposal_history</c> row whose proposal
/// is still a draft, which is the history of something nobody but its team ever saw.</item>
/// </list>
/// TRUNCATE and every other change stay refused. Used from the migration <c>DataRights</c>
/// (<c>migrationBuilder.Sql(PrivacySql.MigrationUp)</c> and <c>MigrationDown</c>, so a regenerated migration re-adds it in a line).
/// </summary>
public static class PrivacySql
{
    public const string PurposeSetting = "portal.history_purpose";

    public const string Pseudonymise = "pseudonymise";

    public const string RemoveDrafts = "remove-drafts";

    public const string Function = """
        CREATE OR REPLACE FUNCTION refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            purpose text := current_setting('portal.history_purpose', true);
            changed text;
        BEGIN
            IF TG_OP = 'UPDATE' AND purpose = 'pseudonymise' THEN
                SELECT string_agg(o.key, ', ') INTO changed
                FROM jsonb_each(to_jsonb(OLD)) o
                JOIN jsonb_each(to_jsonb(NEW)) n ON n.key = o.key
                LEFT JOIN pg_attribute a ON a.attrelid = TG_RELID AND a.attname = o.key AND NOT a.attisdropped
                WHERE o.value IS DISTINCT FROM n.value
                  AND (a.atttypid IS NULL OR a.atttypid NOT IN ('text'::regtype, 'varchar'::regtype, 'jsonb'::regtype, 'text[]'::regtype, 'varchar[]'::regtype)
                       AND format_type(a.atttypid, NULL) <> 'citext');
                IF changed IS NULL THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'table % is append-only: pseudonymisation may change text only, not %', TG_TABLE_NAME, changed
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF TG_OP = 'DELETE' AND purpose = 'remove-drafts' AND TG_TABLE_NAME = 'proposal_history' THEN
                -- Nested: OLD.proposal_id exists only on proposal_history, and PL/pgSQL plans a condition whole.
                IF EXISTS (SELECT 1 FROM proposals p WHERE p.id = OLD.proposal_id AND p.status = 'Draft') THEN
                    RETURN OLD;
                END IF;
            END IF;
            RAISE EXCEPTION 'table % is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$;
        """;

    /// <summary>The function above, and <c>retention_runs</c> (what retention removed) kept append-only like the other history.</summary>
    public static string MigrationUp => Function + "\n" + AppendOnlyTables.Protect("retention_runs");

    /// <summary>Back to the function of the first migration: no purpose is honoured.</summary>
    public static string MigrationDown => AppendOnlyTables.Unprotect("retention_runs") + "\n" + AppendOnlyTables.CreateFunction;

    /// <summary>Declares the purpose for the rest of the current transaction (must be inside one).</summary>
    public static string Declare(string purpose) => $"SELECT set_config('{PurposeSetting}', '{purpose}', true)";
}

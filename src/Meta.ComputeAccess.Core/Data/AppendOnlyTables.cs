namespace Meta.ComputeAccess.Data;

/// <summary>
/// SQL for tables that keep history (audit, ledger, decisions): triggers make PostgreSQL itself refuse
/// UPDATE, DELETE and TRUNCATE, so history survives bugs and hand-written SQL alike. Used from migrations.
/// </summary>
public static class AppendOnlyTables
{
    public const string CreateFunction = """
        CREATE OR REPLACE FUNCTION refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'table % is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$;
        """;

    public static string Protect(string table) => $"""
        CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
        CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
        """;

    public static string Unprotect(string table) => $"""
        DROP TRIGGER IF EXISTS {table}_append_only ON {table};
        DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
        """;
}

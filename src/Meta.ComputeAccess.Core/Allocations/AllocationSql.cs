using Meta.ComputeAccess.Data;

namespace Meta.ComputeAccess.Allocations;

/// <summary>
/// Raw SQL of the allocation module's migration, kept here so that a regenerated migration re-adds it in a line:
/// <c>migrationBuilder.Sql(AllocationSql.Up);</c> (and <c>AllocationSql.Down</c>). Check constraints are in the
/// entity configurations, so EF generates them.
/// </summary>
public static class AllocationSql
{
    /// <summary>History tables: the database refuses UPDATE, DELETE and TRUNCATE.</summary>
    public static readonly string[] AppendOnly = ["ledger_entries", "allocation_events"];

    public static string Up => string.Join('\n', AppendOnly.Select(AppendOnlyTables.Protect));

    public static string Down => string.Join('\n', AppendOnly.Select(AppendOnlyTables.Unprotect));
}

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

    /// <summary>History tables of membership and of what the clusters' agents reported (issue 12).</summary>
    public static readonly string[] SyncAppendOnly = ["allocation_member_events", "cluster_sync_reports", "cluster_sync_outcomes"];

    public static string Up => string.Join('\n', AppendOnly.Select(AppendOnlyTables.Protect));

    public static string Down => string.Join('\n', AppendOnly.Select(AppendOnlyTables.Unprotect));

    /// <summary>
    /// Migration <c>ClusterSync</c>: allocations that have not started are pending (with a history line saying why);
    /// every allocation gets the members who saw it until now (its PI and its proposal's joined team, as the old
    /// visibility rule had it), each with an "added" membership event; the new history tables become append-only.
    /// </summary>
    public static string SyncUp => $$"""
        UPDATE allocations SET state = 'Pending' WHERE state = 'Active' AND start_date > (now() AT TIME ZONE 'UTC')::date;
        INSERT INTO allocation_events (allocation_id, at, actor_user_id, action, from_state, to_state, detail)
        SELECT id, now(), NULL, 'pending', 'Active', 'Pending', 'Waits for its start date (allocations before their start date are pending from this version on)'
        FROM allocations WHERE state = 'Pending';
        INSERT INTO allocation_members (id, allocation_id, user_id, role, status, since)
        SELECT gen_random_uuid(), a.id, a.pi_user_id, 'PrincipalInvestigator', 'Active', a.created_at FROM allocations a;
        INSERT INTO allocation_members (id, allocation_id, user_id, role, status, since)
        SELECT gen_random_uuid(), a.id, m.user_id, 'CoInvestigator', 'Active', a.created_at
        FROM allocations a JOIN proposal_members m ON m.proposal_id = a.proposal_id
        WHERE m.user_id IS NOT NULL
        ON CONFLICT (allocation_id, user_id) DO NOTHING;
        INSERT INTO allocation_member_events (allocation_id, user_id, at, actor_user_id, action, detail)
        SELECT allocation_id, user_id, since, NULL, 'added',
               CASE role WHEN 'PrincipalInvestigator' THEN 'PI of the allocation' ELSE 'Co-investigator of the awarded proposal' END
        FROM allocation_members ORDER BY since, id;
        {{string.Join('\n', SyncAppendOnly.Select(AppendOnlyTables.Protect))}}
        """;

    public static string SyncDown => string.Join('\n', SyncAppendOnly.Select(AppendOnlyTables.Unprotect)) +
        "\nUPDATE allocations SET state = 'Active' WHERE state = 'Pending';";
}

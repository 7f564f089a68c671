using System.Net;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Meta.ComputeAccess.Web.Tests.Privacy;

/// <summary>
/// Downloading one's data and closing an account (docs/compliance.md, "Your data"). The download holds the person's
/// data and none of another reviewer's. After closing, the person's address and name are nowhere in the database
/// afterwards, in any text column of any table (read from information_schema, so tables added later are scanned too),
/// while the ledger, decisions, reviews and the audit log keep their rows and their append-only triggers.
/// </summary>
public sealed class DataRightsTests(DataRightsWorld world) : IClassFixture<DataRightsWorld>
{
    [Fact]
    public async Task Closing_an_account_leaves_no_trace_of_the_address_or_name_in_any_text_column_and_keeps_history()
    {
        Assert.NotEmpty(await TracesAsync(DataRightsWorld.Email, DataRightsWorld.Name));
        var before = await HistoryAsync();
        using var browser = new PortalClient(world);
        await browser.SignInAsync(DataRightsWorld.Email);
        using var otherBrowser = new PortalClient(world);
        await otherBrowser.SignInAsync(DataRightsWorld.Email);
        Assert.Contains("Close my account for good", await browser.GetPageAsync("/Account/Close"), StringComparison.Ordinal);
        var export = await ExportAsync(browser);
        foreach (var own in new[] { DataRightsWorld.Email, DataRightsWorld.Name, DataRightsWorld.OwnReview, "icastellanos", "Team proposal with Ingrid", "matrix-acct", "Ingrid's unfinished draft", "0000-0002-1825-0097" })
        {
            Assert.Contains(own, export, StringComparison.Ordinal);
        }
        foreach (var others in new[] { DataRightsWorld.OtherReview, DataRightsWorld.OtherConfidential, "rev.assigned@review.example.org", "owner@matrix.example.edu" })
        {
            Assert.DoesNotContain(others, export, StringComparison.Ordinal);
        }

        using (var closed = await browser.PostFormAsync("/Account/Close", new Dictionary<string, string> { ["Proof"] = TestUsers.Password }))
        {
            Assert.Equal(HttpStatusCode.Redirect, closed.StatusCode);
        }

        var traces = await TracesAsync(DataRightsWorld.Email, DataRightsWorld.Name);
        Assert.True(traces.Count == 0, "Still found: " + string.Join(", ", traces));
        var after = await HistoryAsync();
        Assert.Equal(before.Ledger, after.Ledger);
        Assert.Equal(before.Decisions, after.Decisions);
        Assert.Equal(before.Reviews, after.Reviews);
        Assert.Equal(before.Triggers, after.Triggers);
        Assert.True(after.AuditIds.Count > before.AuditIds.Count && before.AuditIds.All(after.AuditIds.Contains), "audit entries were removed");
        await using (var db = world.NewDbContext())
        {
            var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == world.PersonId);
            Assert.StartsWith("Former user ", user.FullName, StringComparison.Ordinal);
            Assert.NotNull(user.ClosedAt);
            Assert.Null(user.PasswordHash);
            Assert.Null(user.OrcidId);
            // The review she wrote stays hers (the pseudonym's); the draft she led and its attachment are gone.
            Assert.Equal(DataRightsWorld.OwnReview, await db.Reviews.Where(r => r.ReviewerUserId == world.PersonId).Select(r => r.CommentsForApplicants).SingleAsync());
            Assert.False(await db.Proposals.AnyAsync(p => p.Id == Guid.Parse(world.Values["draftOfPerson"])));
            Assert.True(await db.ProposalMembers.AnyAsync(m => m.UserId == world.PersonId && m.ProposalId == Guid.Parse(world.Values["teamProposal"])));
            Assert.False(await db.AllocationMembers.AnyAsync(m => m.UserId == world.PersonId && m.Status == Meta.ComputeAccess.Allocations.AllocationMemberStatus.Active));
            Assert.False(await db.ClusterLogins.AnyAsync(l => l.UserId == world.PersonId));
            Assert.False(await db.UserSessions.AnyAsync(s => s.UserId == world.PersonId));
            Assert.False(await db.SignInEvents.AnyAsync(e => e.UserId == world.PersonId));
            Assert.False(await db.Notifications.AnyAsync(n => n.UserId == world.PersonId));
            Assert.Equal(1, await db.AuditEntries.CountAsync(a => a.Action == "account.closed" && a.SubjectId == world.PersonId.ToString()));
        }

        // Both browsers are signed out, and the address is free for a new account.
        using (var again = await otherBrowser.GetAsync("/Account/Security"))
        {
            Assert.Contains("/Account/Login", again.Headers.Location?.OriginalString ?? "", StringComparison.Ordinal);
        }
        var fresh = await world.CreateUserAsync(DataRightsWorld.Email);
        // A closed account has no confirmed address, yet it is no stale registration: the nightly purge leaves it.
        await using (var db = world.NewDbContext())
        {
            await db.Database.ExecuteSqlAsync($"UPDATE users SET created_at = created_at - interval '30 days' WHERE id = {world.PersonId}");
        }
        await world.WithScopeAsync(sp => sp.GetRequiredService<Meta.ComputeAccess.Jobs.PurgeUnconfirmedAccountsJob>().RunAsync());
        await using (var db = world.NewDbContext())
        {
            Assert.True(await db.Users.AnyAsync(u => u.Id == world.PersonId));
        }
        Assert.NotEqual(world.PersonId, fresh.Id);
        await AssertTriggersStillRefuseAsync();
    }

    [Fact]
    public async Task Another_reviewers_download_has_their_review_and_not_hers()
    {
        using var browser = new PortalClient(world);
        await browser.SignInAsync("rev.assigned@review.example.org");
        var export = await ExportAsync(browser);
        using var json = System.Text.Json.JsonDocument.Parse(export);
        Assert.Equal("rev.assigned@review.example.org", json.RootElement.GetProperty("account").GetProperty("email").GetString());
        var reviews = json.RootElement.GetProperty("reviews").EnumerateArray().ToList();
        Assert.Contains(reviews, r => r.GetProperty("commentsForApplicants").GetString() == DataRightsWorld.OtherReview && r.GetProperty("overall").GetInt32() == 5);
        Assert.DoesNotContain(DataRightsWorld.OwnReview, export, StringComparison.Ordinal);
        Assert.DoesNotContain(DataRightsWorld.Name, export, StringComparison.Ordinal);
        Assert.DoesNotContain("owner@matrix.example.edu", export, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Downloads_beyond_the_hourly_allowance_are_refused_with_a_message()
    {
        using var browser = new PortalClient(world);
        await browser.SignInAsync("co@matrix.example.edu");
        for (var i = 0; i < new Meta.ComputeAccess.Privacy.PrivacyOptions().ExportsPerHour; i++)
        {
            Assert.Contains("co@matrix.example.edu", await ExportAsync(browser), StringComparison.Ordinal);
        }
        using var refused = await browser.PostFormAsync("/Account/Security", new Dictionary<string, string>(), "/Account/Security?handler=Export");
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Equal("text/html", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("You downloaded your data", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()), StringComparison.Ordinal);
    }

    /// <summary>Posts the security page's download form; the answer is a JSON attachment with a dated file name.</summary>
    private static async Task<string> ExportAsync(PortalClient browser)
    {
        using var response = await browser.PostFormAsync("/Account/Security", new Dictionary<string, string>(), "/Account/Security?handler=Export");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("meta-compute-access-my-data-", response.Content.Headers.ContentDisposition?.FileNameStar, StringComparison.Ordinal);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task A_pi_of_an_open_allocation_and_a_proposal_in_review_is_told_what_to_hand_over_and_nothing_changes()
    {
        using var browser = new PortalClient(world);
        await browser.SignInAsync("owner@matrix.example.edu");
        var page = await browser.GetPageAsync("/Account/Close");
        Assert.Contains("Matrix allocation", page, StringComparison.Ordinal);
        Assert.Contains("Matrix proposal", page, StringComparison.Ordinal);

        using var refused = await browser.PostFormAsync("/Account/Close", new Dictionary<string, string> { ["Proof"] = TestUsers.Password });
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("cannot be closed yet", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        await AssertOpenAsync("owner@matrix.example.edu");
    }

    [Fact]
    public async Task A_wrong_password_closes_nothing()
    {
        using var browser = new PortalClient(world);
        await browser.SignInAsync("other@matrix.example.edu");
        using var refused = await browser.PostFormAsync("/Account/Close", new Dictionary<string, string> { ["Proof"] = "not my password" });
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("That is not your password", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertOpenAsync("other@matrix.example.edu");
    }

    [Fact]
    public async Task Two_closures_of_one_account_at_once_close_it_once()
    {
        var person = await world.CreateUserAsync("twice@close.example.edu");
        Task<string> CloseAsync() => world.WithScopeAsync(sp => sp.GetRequiredService<Meta.ComputeAccess.Privacy.AccountClosure>().CloseAsync(person.Id, TestUsers.Password));

        var both = await Task.WhenAll(Catch(CloseAsync()), Catch(CloseAsync()));

        var closed = Assert.Single(both, r => r.Pseudonym is not null);
        Assert.Equal("This account is already closed.", Assert.Single(both, r => r.Refusal is not null).Refusal);
        await using var db = world.NewDbContext();
        Assert.Equal(closed.Pseudonym, await db.Users.Where(u => u.Id == person.Id).Select(u => u.FullName).SingleAsync());
        Assert.Equal(1, await db.AuditEntries.CountAsync(a => a.Action == "account.closed" && a.SubjectId == person.Id.ToString()));

        static async Task<(string? Pseudonym, string? Refusal)> Catch(Task<string> closing)
        {
            try
            {
                return (await closing, null);
            }
            catch (DomainException refused)
            {
                return (null, refused.Message);
            }
        }
    }

    [Fact]
    public async Task The_history_trigger_lets_pseudonymisation_change_text_only_and_never_delete()
    {
        await using var connection = new NpgsqlConnection(world.ConnectionString);
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await Execute(connection, Meta.ComputeAccess.Privacy.PrivacySql.Declare(Meta.ComputeAccess.Privacy.PrivacySql.Pseudonymise));
        Assert.Equal(1, await Execute(connection, "UPDATE audit_entries SET summary = summary || ' (pseudonymised)' WHERE id = (SELECT min(id) FROM audit_entries)"));
        await Refused(connection, "UPDATE audit_entries SET occurred_at = occurred_at - interval '1 day' WHERE id = (SELECT min(id) FROM audit_entries)");
        await Refused(connection, "UPDATE ledger_entries SET hours = hours + 1 WHERE id = (SELECT min(id) FROM ledger_entries)");
        await Refused(connection, "DELETE FROM audit_entries WHERE id = (SELECT min(id) FROM audit_entries)");
        await tx.RollbackAsync();
    }

    private static async Task Refused(NpgsqlConnection connection, string sql)
    {
        await Execute(connection, "SAVEPOINT probe");
        var error = await Assert.ThrowsAsync<PostgresException>(() => Execute(connection, sql));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        await Execute(connection, "ROLLBACK TO SAVEPOINT probe");
    }

    /// <summary>Outside a declared purpose, the history tables refuse UPDATE and DELETE as before.</summary>
    private async Task AssertTriggersStillRefuseAsync()
    {
        await using var connection = new NpgsqlConnection(world.ConnectionString);
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        foreach (var sql in new[]
        {
            "UPDATE audit_entries SET summary = 'x' WHERE id = (SELECT min(id) FROM audit_entries)",
            "DELETE FROM audit_entries WHERE id = (SELECT min(id) FROM audit_entries)",
            "UPDATE ledger_entries SET hours = 0 WHERE id = (SELECT min(id) FROM ledger_entries)",
            "UPDATE proposal_history SET reason = 'x' WHERE id = (SELECT min(id) FROM proposal_history)",
        })
        {
            await Refused(connection, sql);
        }
        await tx.RollbackAsync();
    }

    private async Task AssertOpenAsync(string email)
    {
        await using var db = world.NewDbContext();
        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Email == email);
        Assert.Null(user.ClosedAt);
        Assert.NotNull(user.PasswordHash);
        Assert.False(await db.AuditEntries.AnyAsync(a => a.Action == "account.closed" && a.SubjectId == user.Id.ToString()));
    }

    /// <summary>Every text-like column of every table in which the address or the name still appears (case-insensitive), as "table.column".</summary>
    private async Task<List<string>> TracesAsync(string email, string name)
    {
        await using var connection = new NpgsqlConnection(world.ConnectionString);
        await connection.OpenAsync();
        var columns = new List<(string Table, string Column)>();
        await using (var command = new NpgsqlCommand("""
            SELECT c.table_name, c.column_name FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
            WHERE c.table_schema = 'public' AND (c.data_type IN ('text', 'character varying', 'character', 'jsonb', 'json') OR c.udt_name IN ('citext', '_text', '_varchar'))
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                columns.Add((reader.GetString(0), reader.GetString(1)));
            }
        }
        Assert.Contains(columns, c => c.Table == "audit_entries" && c.Column == "summary");
        var found = new List<string>();
        foreach (var (table, column) in columns)
        {
            await using var command = new NpgsqlCommand($"SELECT count(*) FROM \"{table}\" WHERE strpos(lower(\"{column}\"::text), lower(@email)) > 0 OR strpos(lower(\"{column}\"::text), lower(@name)) > 0", connection);
            command.Parameters.AddWithValue("email", email);
            command.Parameters.AddWithValue("name", name);
            if ((long)(await command.ExecuteScalarAsync())! > 0)
            {
                found.Add($"{table}.{column}");
            }
        }
        return found;
    }

    private sealed record History(string Ledger, string Decisions, string Reviews, string Triggers, HashSet<long> AuditIds);

    private async Task<History> HistoryAsync()
    {
        await using var connection = new NpgsqlConnection(world.ConnectionString);
        await connection.OpenAsync();
        return new History(
            await Text(connection, "SELECT string_agg(allocation_id || ':' || cluster_id || ':' || kind || ':' || total, ',' ORDER BY allocation_id, cluster_id, kind) FROM (SELECT allocation_id, cluster_id, kind, sum(hours) AS total, count(*) FROM ledger_entries GROUP BY 1, 2, 3) s"),
            await Text(connection, "SELECT string_agg(id || ':' || status || ':' || coalesce(decision, '-') || ':' || coalesce(decision_released_at::text, '-'), ',' ORDER BY id) FROM proposals WHERE status <> 'Draft'"),
            await Text(connection, "SELECT string_agg(id || ':' || reviewer_user_id || ':' || coalesce(overall::text, '-') || ':' || coalesce(submitted_at::text, '-'), ',' ORDER BY id) FROM reviews"),
            await Text(connection, "SELECT string_agg(tgrelid::regclass || '.' || tgname || ':' || tgenabled::text, ',' ORDER BY tgrelid::regclass::text, tgname) FROM pg_trigger WHERE NOT tgisinternal"),
            [.. (await Text(connection, "SELECT string_agg(id::text, ',') FROM audit_entries")).Split(',').Select(long.Parse)]);
    }

    private static async Task<string> Text(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync()) as string ?? "";
    }

    private static async Task<int> Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync();
    }
}

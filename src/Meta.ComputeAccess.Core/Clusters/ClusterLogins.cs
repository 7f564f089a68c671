using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Clusters;

/// <summary>What an import did: nothing at all when <see cref="Problems"/> is not empty.</summary>
/// <param name="Problems">One sentence per refused line ("line 4: …"), in line order.</param>
public sealed record LoginImportResult(IReadOnlyList<string> Problems, int Added, int Changed, int Unchanged)
{
    public bool Imported => Problems.Count == 0;
}

/// <summary>
/// People's logins on clusters: a person proposes theirs, admins set, confirm, remove or import them (CSV, all or
/// nothing). Every change is audited and saved once; a login belongs to one person per cluster (a unique index backs it).
/// </summary>
public sealed class ClusterLogins(PortalDbContext db, AuditLog audit, Notifier notifier, ILookupNormalizer normalizer, TimeProvider clock)
{
    /// <summary>The most lines an import takes (larger directories are imported in parts).</summary>
    public const int MaxImportLines = 20_000;

    private const string Conflict = "Someone else changed the logins of this cluster at the same moment; nothing was saved. Reload and try again.";

    /// <summary>A person proposes their own login on a cluster; it is used once an admin confirms it.</summary>
    public async Task ProposeAsync(Guid userId, Guid clusterId, string login, CancellationToken cancellationToken = default)
    {
        var cluster = await ClusterAsync(clusterId, cancellationToken);
        if (cluster.Status == ClusterStatus.Retired)
        {
            throw new DomainException($"{cluster.Name} is retired: it takes no new logins.");
        }
        login = ClusterLogin.Check(login);
        await RequireFreeAsync(clusterId, login, userId, cancellationToken);
        var now = clock.GetUtcNow();
        var row = await db.ClusterLogins.SingleOrDefaultAsync(l => l.UserId == userId && l.ClusterId == clusterId, cancellationToken);
        if (row is { Confirmed: false } && row.Login == login)
        {
            // The same proposal again changes nothing and does not tell the admins twice.
            return;
        }
        if (row is null)
        {
            db.ClusterLogins.Add(ClusterLogin.Propose(userId, clusterId, login, now));
        }
        else
        {
            row.ProposeAgain(login, now);
        }
        audit.Record(userId, "cluster-login.proposed", "user", userId.ToString(), $"Proposed the login {login} on {cluster.Name}");
        await notifier.NotifyAdminsAsync(NotificationKinds.AdminLoginProposed, cluster.Name, $"/Admin/Clusters/Logins/{cluster.Slug}",
            new Dictionary<string, string> { ["login"] = login }, cancellationToken);
        await db.SaveChangesOrRefuseAsync(Conflict, cancellationToken);
    }

    /// <summary>An admin sets (or changes) the login of the account with <paramref name="email"/>: confirmed at once.</summary>
    public async Task SetAsync(Guid clusterId, string email, string login, Guid admin, CancellationToken cancellationToken = default)
    {
        var cluster = await ClusterAsync(clusterId, cancellationToken);
        login = ClusterLogin.Check(login);
        var normalized = normalizer.NormalizeEmail((email ?? "").Trim());
        var userId = await db.Users.Where(u => u.NormalizedEmail == normalized).Select(u => (Guid?)u.Id).SingleOrDefaultAsync(cancellationToken)
            ?? throw new DomainException("No portal account has this email address.", new Dictionary<string, string> { ["Email"] = "No account with this address." });
        await RequireFreeAsync(clusterId, login, userId, cancellationToken, confirmedOnly: true);
        await TurnDownProposalsOfAsync(cluster, userId, login, admin, cancellationToken);
        Apply(await db.ClusterLogins.SingleOrDefaultAsync(l => l.UserId == userId && l.ClusterId == clusterId, cancellationToken), userId, cluster, login, admin, clock.GetUtcNow());
        await db.SaveChangesOrRefuseAsync(Conflict, cancellationToken);
    }

    public async Task ConfirmAsync(Guid clusterId, Guid userId, Guid admin, CancellationToken cancellationToken = default)
    {
        var cluster = await ClusterAsync(clusterId, cancellationToken);
        var row = await db.ClusterLogins.SingleOrDefaultAsync(l => l.UserId == userId && l.ClusterId == clusterId, cancellationToken)
            ?? throw new DomainException("This person has no login on the cluster (any more).");
        row.Confirm(clock.GetUtcNow());
        audit.Record(admin, "cluster-login.confirmed", "user", userId.ToString(), $"Confirmed the login {row.Login} on {cluster.Name}");
        await db.SaveChangesOrRefuseAsync(Conflict, cancellationToken);
    }

    /// <summary>An admin removes a login (or turns down a proposed one): the clusters stop adding the person to accounts.</summary>
    public async Task RemoveAsync(Guid clusterId, Guid userId, Guid admin, CancellationToken cancellationToken = default)
    {
        var cluster = await ClusterAsync(clusterId, cancellationToken);
        var row = await db.ClusterLogins.SingleOrDefaultAsync(l => l.UserId == userId && l.ClusterId == clusterId, cancellationToken)
            ?? throw new DomainException("This person has no login on the cluster (any more).");
        db.ClusterLogins.Remove(row);
        audit.Record(admin, "cluster-login.removed", "user", userId.ToString(), $"Removed the {(row.Confirmed ? "" : "proposed ")}login {row.Login} on {cluster.Name}");
        await db.SaveChangesOrRefuseAsync(Conflict, cancellationToken);
    }

    /// <summary>
    /// Imports <c>email,login</c> lines (a header line naming the two columns, in any order, is optional; blank lines and
    /// lines starting with <c>#</c> are skipped). Every line is checked first; if any is wrong nothing is changed and
    /// every problem is listed with its line number. Otherwise each login is set and confirmed, as by <see cref="SetAsync"/>.
    /// </summary>
    public async Task<LoginImportResult> ImportAsync(Guid clusterId, string csv, Guid admin, CancellationToken cancellationToken = default)
    {
        var cluster = await ClusterAsync(clusterId, cancellationToken);
        var problems = new List<string>();
        var lines = ReadCsv(csv ?? "", problems);
        if (lines.Count == 0 && problems.Count == 0)
        {
            problems.Add("The file has no email,login lines.");
        }
        var normalizedEmails = lines.Select(l => normalizer.NormalizeEmail(l.Email)).Distinct().ToList();
        var users = await db.Users.AsNoTracking().Where(u => u.NormalizedEmail != null && normalizedEmails.Contains(u.NormalizedEmail))
            .Select(u => new { u.Id, u.NormalizedEmail }).ToDictionaryAsync(u => u.NormalizedEmail!, u => u.Id, cancellationToken);
        var existing = await db.ClusterLogins.Where(l => l.ClusterId == clusterId).ToListAsync(cancellationToken);
        var holders = existing.Select(e => e.UserId).ToList();
        var emailsOf = await db.Users.AsNoTracking().Where(u => holders.Contains(u.Id))
            .ToDictionaryAsync(u => u.Id, u => u.Email ?? "", cancellationToken);

        var wanted = new Dictionary<Guid, (int Line, string Login)>();
        var lineOfLogin = new Dictionary<string, int>(StringComparer.Ordinal);
        var lineOfEmail = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (number, email, login) in lines)
        {
            var normalized = normalizer.NormalizeEmail(email);
            if (!ClusterLogin.IsValid(login))
            {
                problems.Add($"line {number}: \"{Shorten(login)}\" is not a valid login (1 to {ClusterLogin.MaxLength} lowercase letters, digits, '_', '.' or '-', starting with a letter or '_').");
            }
            if (lineOfEmail.TryGetValue(normalized, out var firstEmail))
            {
                problems.Add($"line {number}: {Shorten(email)} is already on line {firstEmail}.");
                continue;
            }
            lineOfEmail[normalized] = number;
            if (lineOfLogin.TryGetValue(login, out var firstLogin))
            {
                problems.Add($"line {number}: the login {Shorten(login)} is already on line {firstLogin}; a login belongs to one person.");
            }
            else
            {
                lineOfLogin[login] = number;
            }
            if (!users.TryGetValue(normalized, out var userId))
            {
                problems.Add($"line {number}: no portal account has the email {Shorten(email)}.");
                continue;
            }
            wanted[userId] = (number, login);
        }
        // After the import, each login must still belong to one person: someone not in the file keeps a confirmed login;
        // a login someone else only proposed is turned down in favour of the file (the admins' directory decides).
        var turnedDown = new List<ClusterLogin>();
        foreach (var kept in existing.Where(e => !wanted.ContainsKey(e.UserId)))
        {
            if (lineOfLogin.TryGetValue(kept.Login, out var number))
            {
                if (kept.Confirmed)
                {
                    problems.Add($"line {number}: the login {kept.Login} is the login of {emailsOf.GetValueOrDefault(kept.UserId, "another person")} on {cluster.Name}.");
                }
                else
                {
                    turnedDown.Add(kept);
                }
            }
        }
        if (problems.Count > 0)
        {
            return new LoginImportResult([.. problems.Order(LineOrder.Instance)], 0, 0, 0);
        }

        foreach (var proposal in turnedDown)
        {
            TurnDown(proposal, cluster, admin);
        }
        var now = clock.GetUtcNow();
        var byUser = existing.Except(turnedDown).ToDictionary(e => e.UserId);
        int added = 0, changed = 0, unchanged = 0;
        foreach (var (userId, (_, login)) in wanted)
        {
            var row = byUser.GetValueOrDefault(userId);
            if (row is { Confirmed: true } && row.Login == login)
            {
                unchanged++;
                continue;
            }
            if (row is null)
            {
                added++;
            }
            else
            {
                changed++;
            }
            Apply(row, userId, cluster, login, admin, now);
        }
        audit.Record(admin, "cluster-login.imported", "cluster", cluster.Id.ToString(), $"Imported {wanted.Count} logins on {cluster.Name}: {added} added, {changed} changed, {unchanged} unchanged");
        await db.SaveChangesOrRefuseAsync(Conflict, cancellationToken);
        return new LoginImportResult([], added, changed, unchanged);
    }

    private void Apply(ClusterLogin? row, Guid userId, Cluster cluster, string login, Guid admin, DateTimeOffset now)
    {
        var before = row is null ? null : $"{row.Login}{(row.Confirmed ? "" : " (proposed)")}";
        if (row is null)
        {
            db.ClusterLogins.Add(ClusterLogin.Set(userId, cluster.Id, login, now));
        }
        else
        {
            row.SetTo(login, now);
        }
        audit.Record(admin, "cluster-login.set", "user", userId.ToString(), $"Login on {cluster.Name} set to {login}" + (before is null ? "" : $" (was {before})"));
    }

    private async Task<Cluster> ClusterAsync(Guid clusterId, CancellationToken cancellationToken) =>
        await db.Clusters.AsNoTracking().SingleOrDefaultAsync(c => c.Id == clusterId, cancellationToken) ?? throw new DomainException("No such cluster.");

    /// <summary>
    /// An admin's login wins over another person's unconfirmed proposal of the same login, so a proposal cannot squat a
    /// login: the proposal is turned down (deleted and audited, as by <see cref="RemoveAsync"/>) in the same save as the
    /// login that replaces it (EF orders the delete first for the unique index). A confirmed login of someone else still refuses.
    /// </summary>
    private async Task TurnDownProposalsOfAsync(Cluster cluster, Guid userId, string login, Guid admin, CancellationToken cancellationToken)
    {
        var proposals = await db.ClusterLogins.Where(l => l.ClusterId == cluster.Id && !l.Confirmed && l.Login == login && l.UserId != userId).ToListAsync(cancellationToken);
        foreach (var proposal in proposals)
        {
            TurnDown(proposal, cluster, admin);
        }
    }

    private void TurnDown(ClusterLogin proposal, Cluster cluster, Guid admin)
    {
        db.ClusterLogins.Remove(proposal);
        audit.Record(admin, "cluster-login.removed", "user", proposal.UserId.ToString(), $"Turned down the proposed login {proposal.Login} on {cluster.Name}: an admin gave it to someone else");
    }

    /// <param name="confirmedOnly">For an admin's login: only someone else's confirmed login is in the way (a proposal is turned down).</param>
    private async Task RequireFreeAsync(Guid clusterId, string login, Guid userId, CancellationToken cancellationToken, bool confirmedOnly = false)
    {
        if (await db.ClusterLogins.AnyAsync(l => l.ClusterId == clusterId && l.Login == login && l.UserId != userId && (l.Confirmed || !confirmedOnly), cancellationToken))
        {
            throw new DomainException($"The login {login} belongs to someone else on this cluster.", new Dictionary<string, string> { ["Login"] = "Taken on this cluster." });
        }
    }

    /// <summary>The data lines of an import (1-based line numbers); format problems go to <paramref name="problems"/>.</summary>
    private static List<(int Number, string Email, string Login)> ReadCsv(string csv, List<string> problems)
    {
        var result = new List<(int, string, string)>();
        var lines = csv.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        if (lines.Length > MaxImportLines + 1)
        {
            problems.Add($"The file has {lines.Length:N0} lines; import at most {MaxImportLines:N0} at a time.");
            return result;
        }
        int emailColumn = 0, loginColumn = 1, columns = 2;
        var headerSeen = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var fields = line.Split(',').Select(f => f.Trim().Trim('"').Trim()).ToArray();
            if (!headerSeen && fields.Any(f => f.Equals("email", StringComparison.OrdinalIgnoreCase)) && fields.Any(f => f.Equals("login", StringComparison.OrdinalIgnoreCase)))
            {
                headerSeen = true;
                emailColumn = Array.FindIndex(fields, f => f.Equals("email", StringComparison.OrdinalIgnoreCase));
                loginColumn = Array.FindIndex(fields, f => f.Equals("login", StringComparison.OrdinalIgnoreCase));
                columns = fields.Length;
                continue;
            }
            headerSeen = true;
            if (fields.Length != columns)
            {
                problems.Add($"line {i + 1}: expected {columns} comma-separated fields ({(columns == 2 ? "email,login" : "as in the header")}), found {fields.Length}.");
                continue;
            }
            if (fields[emailColumn].Length == 0 || fields[emailColumn].Length > 256)
            {
                problems.Add($"line {i + 1}: the email is missing or too long.");
                continue;
            }
            result.Add((i + 1, fields[emailColumn], fields[loginColumn]));
        }
        return result;
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..59] + "…";

    /// <summary>"line 9: …" before "line 10: …"; other sentences first.</summary>
    private sealed class LineOrder : IComparer<string>
    {
        public static readonly LineOrder Instance = new();

        public int Compare(string? x, string? y) => Number(x).CompareTo(Number(y)) is var c && c != 0 ? c : string.CompareOrdinal(x, y);

        private static int Number(string? text) =>
            text is not null && text.StartsWith("line ", StringComparison.Ordinal) && text.IndexOf(':', StringComparison.Ordinal) is > 5 and var colon
                && int.TryParse(text.AsSpan(5, colon - 5), out var n) ? n : 0;
    }
}

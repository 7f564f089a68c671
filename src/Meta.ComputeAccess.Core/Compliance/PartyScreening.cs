using System.Globalization;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

namespace Meta.ComputeAccess.Compliance;

/// <summary>What a team is screened for: a proposal or an allocation, the call whose country rules apply, and its members' accounts.</summary>
public sealed record ScreeningTarget(Guid? ProposalId, Guid? AllocationId, Guid? CallId, IReadOnlyCollection<Guid> Members);

/// <summary>
/// Screens teams: every member (PI and co-investigators who joined) by name, their institutions by name, against the
/// current versions of every screening list (<see cref="ScreeningMatches"/>), and every member's country against the
/// country rules of the program and the call (<see cref="CountryPolicy"/>). What it finds becomes a
/// <see cref="ComplianceHit"/> linked to the proposal or allocation; a finding already known (cleared or not) only gains
/// the link, so screening again is harmless. New hits are audited and the compliance officers told.
/// Runs when a proposal is submitted (<see cref="ISubmissionScreening"/>), before an award is recorded or released
/// (<see cref="ComplianceAwardGate"/>) and after every list import or rule change (<see cref="ComplianceRescreenJob"/>).
/// </summary>
public sealed class PartyScreening(PortalDbContext db, ScreeningMatches matches, AuditLog audit, Notifier notifier, TimeProvider clock) : ISubmissionScreening
{
    /// <summary>In the submission's unit of work: an embargoed member refuses it (the message names the rule, not the person).</summary>
    public async Task OnSubmittingAsync(Proposal proposal, Call call, CancellationToken cancellationToken) =>
        await ScreenAsync([new ScreeningTarget(proposal.Id, null, call.Id, Joined(proposal.Members))], refuseEmbargo: true, cancellationToken);

    /// <summary>Screens the teams of <paramref name="proposalIds"/> as they are now, and saves what it found (one transaction).</summary>
    public Task<int> ScreenProposalsAsync(IReadOnlyCollection<Guid> proposalIds, CancellationToken cancellationToken) =>
        db.SaveAsync(async () => await ScreenAsync(await ProposalTargetsAsync(db.Proposals.Where(p => proposalIds.Contains(p.Id)), cancellationToken), refuseEmbargo: false, cancellationToken),
            cancellationToken);

    /// <summary>The proposals still heading for an award: submitted and undecided, or awarded and not yet accepted or declined.</summary>
    public IQueryable<Proposal> OpenProposals() =>
        db.Proposals.Where(p => ProposalStatusSets.Undecided.Contains(p.Status)
            || (p.Status == ProposalStatus.Decided && p.Decision == ProposalDecision.Awarded && p.AwardResponse == null));

    /// <summary>The targets of <paramref name="proposals"/>: each with its call and joined members.</summary>
    public async Task<List<ScreeningTarget>> ProposalTargetsAsync(IQueryable<Proposal> proposals, CancellationToken cancellationToken) =>
        [.. (await proposals.AsNoTracking()
                .Select(p => new { p.Id, p.CallId, Members = p.Members.Where(m => m.UserId != null).Select(m => m.UserId!.Value).ToList() })
                .ToListAsync(cancellationToken))
            .Select(p => new ScreeningTarget(p.Id, null, p.CallId, p.Members))];

    /// <summary>The targets of <paramref name="allocations"/>: the PI and the awarded proposal's joined team, under that proposal's call.</summary>
    public async Task<List<ScreeningTarget>> AllocationTargetsAsync(IQueryable<Allocation> allocations, CancellationToken cancellationToken)
    {
        var rows = await (from a in allocations.AsNoTracking()
                          join p in db.Proposals on a.ProposalId equals p.Id into proposal
                          from p in proposal.DefaultIfEmpty()
                          select new
                          {
                              a.Id,
                              a.PiUserId,
                              CallId = (Guid?)p.CallId,
                              Members = db.ProposalMembers.Where(m => m.ProposalId == a.ProposalId && m.UserId != null).Select(m => m.UserId!.Value).ToList(),
                          }).ToListAsync(cancellationToken);
        return [.. rows.Select(a => new ScreeningTarget(null, a.Id, a.CallId, [.. a.Members.Append(a.PiUserId).Distinct()]))];
    }

    /// <summary>
    /// Screens <paramref name="targets"/> in the caller's unit of work (hits and links are written at once, inside the
    /// caller's transaction; audit and notices wait for its save). Returns the number of new hits, which are audited as
    /// the portal's own findings (no actor).
    /// </summary>
    public async Task<int> ScreenAsync(IReadOnlyList<ScreeningTarget> targets, bool refuseEmbargo, CancellationToken cancellationToken)
    {
        var userIds = targets.SelectMany(t => t.Members).Distinct().ToList();
        if (userIds.Count == 0)
        {
            return 0;
        }
        var people = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id))
            .Select(u => new { u.Id, u.FullName, u.Institution, u.Country })
            .ToDictionaryAsync(u => u.Id, cancellationToken);
        var policies = await PoliciesAsync(targets, cancellationToken);
        var found = new Dictionary<string, Finding>(StringComparer.Ordinal);

        foreach (var target in targets)
        {
            var policy = policies[target.CallId ?? Guid.Empty];
            foreach (var member in target.Members.Where(people.ContainsKey))
            {
                var country = people[member].Country;
                var (level, rule) = policy.Of(country);
                if (level == CountryLevel.Open)
                {
                    continue;
                }
                if (level == CountryLevel.Embargoed && refuseEmbargo)
                {
                    throw new DomainException($"This proposal cannot be submitted: {CountryPolicy.Describe(country, level, rule)} applies to a member of the team. " +
                        "Contact the program if you believe this is wrong.");
                }
                var key = ComplianceHit.CountryKey(member, country, level);
                found.TryAdd(key, new Finding(key, ComplianceHitKind.CountryRule, ScreenedParty.Person, member, people[member].FullName, null, country, level, rule));
                found[key].Targets.Add(target);
            }
        }

        // Names: each person once, each institution once (however many members share it).
        var names = new List<ScreenedName>();
        var owners = new List<(Guid UserId, string Display)>();
        foreach (var person in people.Values)
        {
            names.Add(new ScreenedName(ScreenedParty.Person, NameNormalizer.Normalize(person.FullName)));
            owners.Add((person.Id, person.FullName));
        }
        var institutionIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var membersOfInstitution = new Dictionary<string, HashSet<Guid>>(StringComparer.Ordinal);
        foreach (var person in people.Values)
        {
            var normalized = NameNormalizer.Normalize(person.Institution);
            if (normalized.Length == 0)
            {
                continue;
            }
            if (!institutionIndex.ContainsKey(normalized))
            {
                institutionIndex[normalized] = names.Count;
                names.Add(new ScreenedName(ScreenedParty.Institution, normalized));
                owners.Add((person.Id, person.Institution));
                membersOfInstitution[normalized] = [];
            }
            membersOfInstitution[normalized].Add(person.Id);
        }
        foreach (var match in await matches.FindAsync(names, cancellationToken))
        {
            var name = names[match.Subject];
            var (owner, display) = owners[match.Subject];
            var key = ComplianceHit.ListMatchKey(name.Party, owner, name.Normalized, match.ListKey, match.EntryId);
            found.TryAdd(key, new Finding(key, ComplianceHitKind.ListMatch, name.Party, owner, display, match, null, null, null));
            IReadOnlyCollection<Guid> members = name.Party == ScreenedParty.Person ? [owner] : membersOfInstitution[name.Normalized];
            found[key].Targets.AddRange(targets.Where(t => t.Members.Any(members.Contains)));
        }
        if (found.Count == 0)
        {
            return 0;
        }
        var created = await SaveFindingsAsync([.. found.Values], cancellationToken);
        foreach (var finding in created)
        {
            audit.Record(null, "compliance.hit-found", "compliance-hit", finding.Id.ToString(), finding.Summary());
        }
        if (created.Count > 0)
        {
            await notifier.NotifyRoleAsync(Roles.Compliance, NotificationKinds.ComplianceHits, "Compliance queue", "/Compliance",
                new Dictionary<string, string> { ["count"] = created.Count.ToString(CultureInfo.InvariantCulture) }, cancellationToken);
        }
        return created.Count;
    }

    /// <summary>The country policy of each call the targets name (and of no call: the program's alone, under <see cref="Guid.Empty"/>).</summary>
    private async Task<Dictionary<Guid, CountryPolicy>> PoliciesAsync(IReadOnlyList<ScreeningTarget> targets, CancellationToken cancellationToken)
    {
        var program = await db.CountryRules.AsNoTracking().ToDictionaryAsync(r => r.Country, r => r.Level, StringComparer.Ordinal, cancellationToken);
        var callIds = targets.Where(t => t.CallId is not null).Select(t => t.CallId!.Value).Distinct().ToList();
        var calls = await db.Calls.AsNoTracking().Where(c => callIds.Contains(c.Id))
            .Select(c => new { c.Id, c.Title, c.EmbargoedCountries, c.RestrictedCountries }).ToListAsync(cancellationToken);
        var policies = calls.ToDictionary(c => c.Id, c => new CountryPolicy(program, c.Title, c.EmbargoedCountries, c.RestrictedCountries));
        policies[Guid.Empty] = new CountryPolicy(program);
        return policies;
    }

    /// <summary>Inserts the findings not known yet and links every finding to its targets; returns the new ones with their ids.</summary>
    private async Task<List<Finding>> SaveFindingsAsync(IReadOnlyList<Finding> findings, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        foreach (var f in findings)
        {
            f.Id = Guid.CreateVersion7(now);
        }
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var created = new HashSet<string>(StringComparer.Ordinal);
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO compliance_hits (id, dedup_key, kind, party, user_id, party_name, version_id, entry_ordinal, list_key, entry_id,
                                         matched_name, score, country, country_level, rule, status, found_at, resolution)
            SELECT * FROM unnest(@id, @key, @kind, @party, @user, @name, @version, @ordinal, @list, @entry, @matched, @score, @country, @level, @rule,
                                 @status, @found, @resolution)
            ON CONFLICT (dedup_key) DO NOTHING
            RETURNING dedup_key
            """, connection))
        {
            AddArray(insert, "id", NpgsqlDbType.Uuid, findings.Select(f => f.Id));
            AddArray(insert, "key", NpgsqlDbType.Text, findings.Select(f => f.Key));
            AddArray(insert, "kind", NpgsqlDbType.Text, findings.Select(f => f.Kind.ToString()));
            AddArray(insert, "party", NpgsqlDbType.Text, findings.Select(f => f.Party.ToString()));
            AddArray(insert, "user", NpgsqlDbType.Uuid, findings.Select(f => (Guid?)f.UserId));
            AddArray(insert, "name", NpgsqlDbType.Text, findings.Select(f => Limit(f.PartyName, 300)));
            AddArray(insert, "version", NpgsqlDbType.Uuid, findings.Select(f => f.Match?.VersionId));
            AddArray(insert, "ordinal", NpgsqlDbType.Integer, findings.Select(f => f.Match?.Ordinal));
            AddArray(insert, "list", NpgsqlDbType.Text, findings.Select(f => f.Match?.ListKey));
            AddArray(insert, "entry", NpgsqlDbType.Text, findings.Select(f => f.Match?.EntryId));
            AddArray(insert, "matched", NpgsqlDbType.Text, findings.Select(f => f.Match is null ? null : Limit(f.Match.MatchedName, NameNormalizer.MaxLength)));
            AddArray(insert, "score", NpgsqlDbType.Integer, findings.Select(f => f.Match?.Score));
            AddArray(insert, "country", NpgsqlDbType.Text, findings.Select(f => f.Country));
            AddArray(insert, "level", NpgsqlDbType.Text, findings.Select(f => f.Level?.ToString()));
            AddArray(insert, "rule", NpgsqlDbType.Text, findings.Select(f => f.Rule is null ? null : Limit(f.Rule, 300)));
            AddArray(insert, "status", NpgsqlDbType.Text, findings.Select(_ => nameof(ComplianceHitStatus.Open)));
            AddArray(insert, "found", NpgsqlDbType.TimestampTz, findings.Select(_ => now));
            AddArray(insert, "resolution", NpgsqlDbType.Text, findings.Select(_ => ""));
            await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                created.Add(reader.GetString(0));
            }
        }
        // Findings known before keep their ids (and their decisions); the new ones have the ids given above.
        var ids = new Dictionary<string, Guid>(StringComparer.Ordinal);
        await using (var known = new NpgsqlCommand("SELECT dedup_key, id FROM compliance_hits WHERE dedup_key = ANY(@keys)", connection))
        {
            AddArray(known, "keys", NpgsqlDbType.Text, findings.Select(f => f.Key));
            await using var reader = await known.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids[reader.GetString(0)] = reader.GetGuid(1);
            }
        }
        var links = findings.SelectMany(f => f.Targets.Distinct().Select(t => (Hit: ids[f.Key], t.ProposalId, t.AllocationId))).Distinct().ToList();
        await using (var link = new NpgsqlCommand("""
            INSERT INTO compliance_hit_links (hit_id, proposal_id, allocation_id, linked_at)
            SELECT h, p, a, @now FROM unnest(@hit, @proposal, @allocation) AS l(h, p, a)
            ON CONFLICT DO NOTHING
            """, connection))
        {
            AddArray(link, "hit", NpgsqlDbType.Uuid, links.Select(l => (Guid?)l.Hit));
            AddArray(link, "proposal", NpgsqlDbType.Uuid, links.Select(l => l.ProposalId));
            AddArray(link, "allocation", NpgsqlDbType.Uuid, links.Select(l => l.AllocationId));
            link.Parameters.AddWithValue("now", now);
            await link.ExecuteNonQueryAsync(cancellationToken);
        }
        return [.. findings.Where(f => created.Contains(f.Key))];
    }

    private static void AddArray<T>(NpgsqlCommand command, string name, NpgsqlDbType type, IEnumerable<T> values) =>
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | type) { Value = values.ToArray() });

    private static string Limit(string value, int length) => value.Length <= length ? value : value[..length];

    private static List<Guid> Joined(IEnumerable<ProposalMember> members) => [.. members.Where(m => m.UserId is not null).Select(m => m.UserId!.Value)];

    /// <summary>One thing found, before it is stored: a new hit or one already known.</summary>
    private sealed record Finding(string Key, ComplianceHitKind Kind, ScreenedParty Party, Guid UserId, string PartyName, ListMatch? Match, string? Country, CountryLevel? Level, string? Rule)
    {
        public Guid Id { get; set; }

        public List<ScreeningTarget> Targets { get; } = [];

        public string Summary() => Kind == ComplianceHitKind.ListMatch
            ? $"Screening hit: {Party.ToString().ToLowerInvariant()} {PartyName} scored {Match!.Score} against '{Match.EntryName}' ({Match.ListKey}, entry {Match.EntryId})"
            : $"Screening hit: {PartyName} is in {Countries.NameOf(Country)}, {Level.ToString()!.ToLowerInvariant()} by {Rule}";
    }
}

using Meta.ComputeAccess.Compliance;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Compliance;

/// <summary>The compliance queue: screening hits with what they matched and what they concern; clear or block each with a reason.</summary>
public sealed class IndexModel(PortalDbContext db, ComplianceQueue queue) : PageModel
{
    public const int MaxRows = 200;

    /// <summary>A proposal or allocation a hit concerns.</summary>
    public sealed record Concern(string What, string Title, string State);

    public sealed record Entry(string ListName, int Version, string EntryId, ScreeningEntryKind Kind, string Name, IReadOnlyList<string> AltNames, IReadOnlyList<string> Countries, string SourceList);

    public sealed record Row(
        Guid Id, ComplianceHitKind Kind, ScreenedParty Party, string PartyName, string? Email, string? Institution, string? PartyCountry,
        Entry? Entry, string? MatchedName, int? Score, string? Country, CountryLevel? Level, string? Rule,
        ComplianceHitStatus Status, DateTimeOffset FoundAt, DateTimeOffset? ResolvedAt, string? ResolvedBy, string Resolution)
    {
        public List<Concern> Concerns { get; } = [];
    }

    /// <summary>Which hits to list: open ones by default.</summary>
    [BindProperty(SupportsGet = true)]
    public ComplianceHitStatus? Status { get; set; }

    public IReadOnlyList<Row> Hits { get; private set; } = [];

    public IReadOnlyDictionary<ComplianceHitStatus, int> Counts { get; private set; } = new Dictionary<ComplianceHitStatus, int>();

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public Task<IActionResult> OnPostClearAsync(Guid hitId, string? reason, CancellationToken cancellationToken) =>
        ActAsync(async () =>
        {
            await queue.ClearAsync(hitId, reason ?? "", User.GetUserId(), cancellationToken);
            return "Hit cleared: it no longer holds any award.";
        }, cancellationToken);

    public Task<IActionResult> OnPostBlockAsync(Guid hitId, string? reason, CancellationToken cancellationToken) =>
        ActAsync(async () =>
        {
            var suspended = await queue.BlockAsync(hitId, reason ?? "", User.GetUserId(), cancellationToken);
            return suspended == 0 ? "Blocked: the proposals it concerns cannot be awarded." : $"Blocked: the proposals it concerns cannot be awarded, and {suspended} active allocations were suspended.";
        }, cancellationToken);

    private Task<IActionResult> ActAsync(Func<Task<string>> action, CancellationToken cancellationToken) =>
        this.RunAsync(async () =>
        {
            TempData.Status(await action());
            return RedirectToPage(new { status = Status });
        }, async () =>
        {
            await LoadAsync(cancellationToken);
            return Page();
        });

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var status = Status ?? ComplianceHitStatus.Open;
        Counts = await db.ComplianceHits.AsNoTracking().GroupBy(h => h.Status).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        var rows = await (from h in db.ComplianceHits.AsNoTracking().Where(h => h.Status == status)
                          join u in db.Users on h.UserId equals u.Id into person
                          from u in person.DefaultIfEmpty()
                          join v in db.ScreeningListVersions on h.VersionId equals v.Id into version
                          from v in version.DefaultIfEmpty()
                          join e in db.ScreeningListEntries on new { VersionId = h.VersionId ?? Guid.Empty, Ordinal = h.EntryOrdinal ?? -1 } equals new { e.VersionId, e.Ordinal } into entry
                          from e in entry.DefaultIfEmpty()
                          join r in db.Users on h.ResolvedByUserId equals r.Id into resolver
                          from r in resolver.DefaultIfEmpty()
                          orderby h.FoundAt descending, h.Id
                          select new
                          {
                              h.Id, h.Kind, h.Party, h.PartyName, Email = u.Email, Institution = u.Institution, PartyCountry = u.Country,
                              ListName = v.ListName, Number = (int?)v.Number, e.EntryId, EntryKind = (ScreeningEntryKind?)e.Kind, EntryName = e.Name, e.AltNames, e.Countries, e.SourceList,
                              h.MatchedName, h.Score, h.Country, h.CountryLevel, h.Rule, h.Status, h.FoundAt, h.ResolvedAt, ResolvedBy = r.FullName, h.Resolution,
                          }).Take(MaxRows).ToListAsync(cancellationToken);
        var hits = rows.Select(h => new Row(h.Id, h.Kind, h.Party, h.PartyName, h.Email, h.Party == ScreenedParty.Person ? h.Institution : null, h.PartyCountry,
            h.EntryId is null ? null : new Entry(h.ListName ?? "", h.Number ?? 0, h.EntryId, h.EntryKind ?? ScreeningEntryKind.Unknown, h.EntryName ?? "", h.AltNames ?? [], h.Countries ?? [], h.SourceList ?? ""),
            h.MatchedName, h.Score, h.Country, h.CountryLevel, h.Rule, h.Status, h.FoundAt, h.ResolvedAt, h.ResolvedBy, h.Resolution)).ToList();
        var ids = hits.Select(h => h.Id).ToList();
        var proposals = await (from l in db.ComplianceHitLinks.AsNoTracking()
                               join p in db.Proposals on l.ProposalId equals p.Id
                               join c in db.Calls on p.CallId equals c.Id
                               where ids.Contains(l.HitId)
                               select new { l.HitId, p.Title, Call = c.Title, p.Status, p.Decision }).ToListAsync(cancellationToken);
        var allocations = await (from l in db.ComplianceHitLinks.AsNoTracking()
                                 join a in db.Allocations on l.AllocationId equals a.Id
                                 where ids.Contains(l.HitId)
                                 select new { l.HitId, a.ProjectTitle, a.SlurmAccount, a.State }).ToListAsync(cancellationToken);
        var byId = hits.ToDictionary(h => h.Id);
        foreach (var p in proposals)
        {
            byId[p.HitId].Concerns.Add(new Concern("Proposal", p.Title, $"{Proposal.Describe(p.Status)}{(p.Decision is { } d ? $", {d.ToString().ToLowerInvariant()}" : "")} · {p.Call}"));
        }
        foreach (var a in allocations)
        {
            byId[a.HitId].Concerns.Add(new Concern("Allocation", a.ProjectTitle, $"{a.State.ToString().ToLowerInvariant()} · {a.SlurmAccount}"));
        }
        Hits = hits;
    }
}

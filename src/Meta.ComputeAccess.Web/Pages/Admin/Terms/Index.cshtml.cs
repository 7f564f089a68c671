using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Terms;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Terms;

/// <summary>
/// The terms of use or one call's award terms (<see cref="CallId"/>): every published version, who accepted which and
/// when, and publishing the next version (a published one is never edited).
/// </summary>
public sealed class IndexModel(PortalDbContext db, PortalTerms terms) : PageModel
{
    public const int MaxAcceptances = 200;

    public sealed record VersionLine(Guid Id, int Version, string TextMarkdown, string Summary, DateTimeOffset PublishedAt, string PublishedBy, int Accepted);

    public sealed record AcceptanceLine(string Who, string Email, string? Proposal, int Version, DateTimeOffset At);

    public sealed class InputModel
    {
        [StringLength(TermsDocument.MaxTextLength)]
        public string Text { get; set; } = "";

        [StringLength(500)]
        public string Summary { get; set; } = "";
    }

    /// <summary>The call whose award terms are shown; none: the terms of use.</summary>
    [BindProperty(SupportsGet = true)]
    public Guid? CallId { get; set; }

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public string? CallTitle { get; private set; }

    public IReadOnlyList<(Guid Id, string Title)> Calls { get; private set; } = [];

    public IReadOnlyList<VersionLine> Versions { get; private set; } = [];

    public IReadOnlyList<AcceptanceLine> Acceptances { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (!await LoadAsync(cancellationToken))
        {
            return NotFound();
        }
        // The next version starts from the current one: publishing changes only what the admin changes.
        Input.Text = Versions.FirstOrDefault()?.TextMarkdown ?? "";
        return Page();
    }

    public Task<IActionResult> OnPostPublishAsync(CancellationToken cancellationToken) =>
        this.RunAsync(async () =>
        {
            if (ModelState.IsValid)
            {
                var version = await terms.PublishAsync(CallId is null ? TermsKind.TermsOfUse : TermsKind.AwardTerms, CallId, Input.Text, Input.Summary, User.GetUserId(), cancellationToken);
                TempData.Status(CallId is null
                    ? $"Version {version} of the terms of use is published: every user accepts it before their next page."
                    : $"Version {version} of the call's award terms is published: PIs accept it with their awards from now on.");
                return RedirectToPage(new { callId = CallId });
            }
            return await ShowAsync(cancellationToken);
        }, () => ShowAsync(cancellationToken), fieldPrefix: $"{nameof(Input)}.");

    private async Task<IActionResult> ShowAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken) ? Page() : NotFound();

    private async Task<bool> LoadAsync(CancellationToken cancellationToken)
    {
        Calls = [.. (await db.Calls.AsNoTracking().OrderByDescending(c => c.OpensAt).Select(c => new { c.Id, c.Title }).ToListAsync(cancellationToken)).Select(c => (c.Id, c.Title))];
        if (CallId is { } callId)
        {
            CallTitle = Calls.FirstOrDefault(c => c.Id == callId).Title;
            if (CallTitle is null)
            {
                return false;
            }
        }
        var kind = CallId is null ? TermsKind.TermsOfUse : TermsKind.AwardTerms;
        var versions = await (from d in db.TermsDocuments.AsNoTracking()
                              join u in db.Users on d.PublishedByUserId equals u.Id
                              where d.Kind == kind && d.CallId == CallId
                              orderby d.Version descending
                              select new { d.Id, d.Version, d.TextMarkdown, d.Summary, d.PublishedAt, u.FullName }).ToListAsync(cancellationToken);
        var ids = versions.Select(v => v.Id).ToList();
        if (CallId is null)
        {
            var counts = await db.TermsAcceptances.AsNoTracking().Where(a => ids.Contains(a.DocumentId)).GroupBy(a => a.DocumentId)
                .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
            Versions = [.. versions.Select(v => new VersionLine(v.Id, v.Version, v.TextMarkdown, v.Summary, v.PublishedAt, v.FullName, counts.GetValueOrDefault(v.Id)))];
            Acceptances = await (from a in db.TermsAcceptances.AsNoTracking()
                                 join d in db.TermsDocuments on a.DocumentId equals d.Id
                                 join u in db.Users on a.UserId equals u.Id
                                 where d.Kind == TermsKind.TermsOfUse
                                 orderby a.AcceptedAt descending, a.Id descending
                                 select new AcceptanceLine(u.FullName, u.Email ?? "", null, d.Version, a.AcceptedAt)).Take(MaxAcceptances).ToListAsync(cancellationToken);
        }
        else
        {
            // A PI's acceptance of award terms is kept with the award, keyed by the version (CallAwardTerms).
            var keys = versions.ToDictionary(v => CallAwardTerms.KeyOf(v.Id), v => v.Version);
            var keyList = keys.Keys.ToList();
            var accepted = await (from a in db.AwardConditionAcceptances.AsNoTracking()
                                  join p in db.Proposals on a.ProposalId equals p.Id
                                  join u in db.Users on a.AcceptedByUserId equals u.Id
                                  where keyList.Contains(a.Key)
                                  orderby a.AcceptedAt descending, a.Id descending
                                  select new { u.FullName, u.Email, p.Title, a.Key, a.AcceptedAt }).Take(MaxAcceptances).ToListAsync(cancellationToken);
            // Counted in the database: the list above shows only the latest acceptances.
            var counts = await db.AwardConditionAcceptances.AsNoTracking().Where(a => keyList.Contains(a.Key)).GroupBy(a => a.Key)
                .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
            Acceptances = [.. accepted.Select(a => new AcceptanceLine(a.FullName, a.Email ?? "", a.Title, keys[a.Key], a.AcceptedAt))];
            Versions = [.. versions.Select(v => new VersionLine(v.Id, v.Version, v.TextMarkdown, v.Summary, v.PublishedAt, v.FullName, counts.GetValueOrDefault(CallAwardTerms.KeyOf(v.Id))))];
        }
        return true;
    }
}

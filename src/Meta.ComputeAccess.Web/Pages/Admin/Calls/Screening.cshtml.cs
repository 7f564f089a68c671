using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Calls;

/// <summary>The call's proposals waiting for screening, and the screenings already done.</summary>
public sealed class ScreeningModel(PortalDbContext db) : PageModel
{
    public sealed record Line(Guid Id, string Title, ProposalStatus Status, DateTimeOffset? SubmittedAt, bool? Eligible, TechnicalCheck? Technical, string Note);

    public string Slug { get; private set; } = "";

    public string CallTitle { get; private set; } = "";

    public IReadOnlyList<Line> Waiting { get; private set; } = [];

    public IReadOnlyList<Line> Screened { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(string slug, CancellationToken cancellationToken)
    {
        if (await db.Calls.AsNoTracking().Where(c => c.Slug == slug).Select(c => new { c.Id, c.Title }).SingleOrDefaultAsync(cancellationToken) is not { } call)
        {
            return NotFound();
        }
        Slug = slug;
        CallTitle = call.Title;
        var lines = await (from p in db.Proposals.AsNoTracking()
                           where p.CallId == call.Id && p.Status != ProposalStatus.Draft && p.Status != ProposalStatus.Withdrawn
                           join s in db.Screenings on p.Id equals s.ProposalId into screenings
                           from s in screenings.DefaultIfEmpty()
                           orderby p.SubmittedAt
                           select new Line(p.Id, p.Title, p.Status, p.SubmittedAt, s == null ? null : s.Eligible, s == null ? null : s.Technical,
                               s == null ? "" : (s.Eligible ? s.TechnicalNote : s.EligibilityReason)))
            .ToListAsync(cancellationToken);
        Waiting = [.. lines.Where(l => ProposalStatusSets.AwaitingScreening.Contains(l.Status))];
        Screened = [.. lines.Where(l => l.Eligible is not null)];
        return Page();
    }
}

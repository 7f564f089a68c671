using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Privacy;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Pages.Admin.Retention;

/// <summary>What the retention job removed, run by run, and the settings it runs with.</summary>
public sealed class IndexModel(PortalDbContext db, IOptions<PrivacyOptions> options) : PageModel
{
    public const int Shown = 100;

    public sealed record Run(DateTimeOffset RanAt, DateTimeOffset DraftsUntouchedSince, DateTimeOffset CallsClosedBefore, int DraftsRemoved, int AttachmentsRemoved, long BytesRemoved, string Detail);

    public IReadOnlyList<Run> Runs { get; private set; } = [];

    public PrivacyOptions Settings => options.Value;

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Runs = await db.RetentionRuns.AsNoTracking().OrderByDescending(r => r.Id).Take(Shown)
            .Select(r => new Run(r.RanAt, r.DraftsUntouchedSince, r.CallsClosedBefore, r.DraftsRemoved, r.AttachmentsRemoved, r.BytesRemoved, r.Detail))
            .ToListAsync(cancellationToken);
}

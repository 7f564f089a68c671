using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Allocations;

/// <summary>Every allocation, with those near exhaustion, idle (no job for 30 days since they started) or waiting for a supplement decision flagged.</summary>
public sealed class IndexModel(PortalDbContext db, TimeProvider clock) : PageModel
{
    public sealed record Row(Guid Id, string ProjectTitle, string SlurmAccount, string Pi, AllocationState State, DateOnly StartDate, DateOnly EndDate, decimal Granted, decimal Used, bool PendingRequest, DateTimeOffset? LastUse);

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync()
    {
        Now = clock.GetUtcNow();
        Rows = await (from a in db.Allocations.VisibleTo(await this.ViewerAsync()).AsNoTracking()
                      join u in db.Users on a.PiUserId equals u.Id
                      orderby a.CreatedAt descending
                      select new Row(a.Id, a.ProjectTitle, a.SlurmAccount, u.FullName, a.State, a.StartDate, a.EndDate,
                          a.Quotas.Sum(q => q.GrantedHours), a.Quotas.Sum(q => q.UsedHours),
                          db.SupplementRequests.Any(s => s.AllocationId == a.Id && s.Status == SupplementStatus.Pending),
                          db.LedgerEntries.Where(e => e.AllocationId == a.Id && e.Kind == LedgerEntryKind.Usage).Max(e => (DateTimeOffset?)e.EffectiveAt)))
                     .Take(500).ToListAsync();
    }
}

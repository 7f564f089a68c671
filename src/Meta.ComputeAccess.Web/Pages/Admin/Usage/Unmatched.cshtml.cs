using Meta.ComputeAccess.Allocation;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Usage;
using Meta.ComputeAccess.Web.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Usage;

/// <summary>Jobs whose Slurm account matched no open allocation: assign (which charges) or dismiss with a reason.</summary>
public sealed class UnmatchedModel(PortalDbContext db, AllocationService allocations) : PageModel
{
    public sealed record Row(long Id, string Cluster, string Account, string JobId, string User, DateTimeOffset EndedAt, decimal GpuHours, DateTimeOffset ReceivedAt);

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public async Task OnGetAsync() =>
        Rows = await (from u in db.UnmatchedUsage.AsNoTracking()
                      join r in db.UsageRecords on new { u.ClusterId, u.JobId } equals new { r.ClusterId, r.JobId }
                      join c in db.Clusters on u.ClusterId equals c.Id
                      where u.Status == UnmatchedUsageStatus.Open
                      orderby u.ReceivedAt descending, u.Id
                      select new Row(u.Id, c.Name, u.Account, r.JobId, r.UserName, r.EndedAt, u.GpuHours, u.ReceivedAt)).Take(500).ToListAsync();

    public async Task<IActionResult> OnPostAssignAsync(long id, string account)
    {
        var allocationId = await db.Allocations.Where(a => a.SlurmAccount == (account ?? "").Trim()).Select(a => (Guid?)a.Id).SingleOrDefaultAsync();
        if (allocationId is null)
        {
            TempData.Error("No allocation has that Slurm account.");
            return RedirectToPage();
        }
        return await ActAsync(() => allocations.AssignUnmatchedAsync(id, allocationId.Value, User.GetUserId()), $"Charged to {account}.");
    }

    public Task<IActionResult> OnPostDismissAsync(long id, string reason) =>
        ActAsync(() => allocations.DismissUnmatchedAsync(id, reason ?? "", User.GetUserId()), "Dismissed.");

    private async Task<IActionResult> ActAsync(Func<Task> action, string done)
    {
        try
        {
            await action();
            TempData.Status(done);
        }
        catch (DomainException ex)
        {
            TempData.Error(ex.Message);
        }
        return RedirectToPage();
    }
}

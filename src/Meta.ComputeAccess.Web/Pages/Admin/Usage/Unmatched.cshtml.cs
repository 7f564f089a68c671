using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Usage;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Usage;

/// <summary>Jobs whose Slurm account matched no open allocation: assign (which charges) or dismiss with a reason.</summary>
public sealed class UnmatchedModel(PortalDbContext db, AllocationService allocations) : PageModel
{
    public sealed record Row(long Id, string Cluster, string Account, string JobId, string User, DateTimeOffset EndedAt, decimal GpuHours, DateTimeOffset ReceivedAt);

    /// <summary>Open unmatched usage of one account on one cluster, resolved together.</summary>
    public sealed record Group(Guid ClusterId, string Cluster, string Account, int Jobs, decimal GpuHours, DateTimeOffset LastReceivedAt);

    /// <summary>The most jobs listed one by one; the groups above count them all.</summary>
    public const int MaxRows = 500;

    public IReadOnlyList<Group> Groups { get; private set; } = [];

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public async Task OnGetAsync()
    {
        var open = db.UnmatchedUsage.AsNoTracking().Where(u => u.Status == UnmatchedUsageStatus.Open);
        var groups = await open.GroupBy(u => new { u.ClusterId, u.Account })
            .Select(g => new { g.Key.ClusterId, g.Key.Account, Jobs = g.Count(), GpuHours = g.Sum(u => u.GpuHours), Last = g.Max(u => u.ReceivedAt) })
            .ToListAsync();
        var clusters = await db.Clusters.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name);
        Groups = [.. groups.OrderByDescending(g => g.GpuHours).ThenBy(g => g.Account, StringComparer.Ordinal)
            .Select(g => new Group(g.ClusterId, clusters.GetValueOrDefault(g.ClusterId, "?"), g.Account, g.Jobs, g.GpuHours, g.Last))];
        Rows = await (from u in open
                      join r in db.UsageRecords on new { u.ClusterId, u.JobId } equals new { r.ClusterId, r.JobId }
                      join c in db.Clusters on u.ClusterId equals c.Id
                      orderby u.ReceivedAt descending, u.Id
                      select new Row(u.Id, c.Name, u.Account, r.JobId, r.UserName, r.EndedAt, u.GpuHours, u.ReceivedAt)).Take(MaxRows).ToListAsync();
    }

    public async Task<IActionResult> OnPostAssignAsync(long id, string account)
    {
        if (await AllocationOfAsync(account) is not { } allocationId)
        {
            TempData.Error("No allocation has that Slurm account.");
            return RedirectToPage();
        }
        return await ActAsync(() => allocations.AssignUnmatchedAsync(id, allocationId, User.GetUserId()), $"Charged to {account}.");
    }

    public async Task<IActionResult> OnPostAssignAllAsync(Guid clusterId, string jobsAccount, string account)
    {
        if (await AllocationOfAsync(account) is not { } allocationId)
        {
            TempData.Error("No allocation has that Slurm account.");
            return RedirectToPage();
        }
        var charged = 0;
        return await ActAsync(async () => charged = await allocations.AssignUnmatchedAccountAsync(clusterId, jobsAccount ?? "", allocationId, User.GetUserId()),
            () => $"{charged:N0} jobs of {jobsAccount} charged to {account}.");
    }

    public async Task<IActionResult> OnPostDismissAllAsync(Guid clusterId, string jobsAccount, string reason)
    {
        var dismissed = 0;
        return await ActAsync(async () => dismissed = await allocations.DismissUnmatchedAccountAsync(clusterId, jobsAccount ?? "", reason ?? "", User.GetUserId()),
            () => $"{dismissed:N0} jobs of {jobsAccount} dismissed.");
    }

    public Task<IActionResult> OnPostDismissAsync(long id, string reason) =>
        ActAsync(() => allocations.DismissUnmatchedAsync(id, reason ?? "", User.GetUserId()), "Dismissed.");

    private Task<Guid?> AllocationOfAsync(string? account) =>
        db.Allocations.Where(a => a.SlurmAccount == (account ?? "").Trim()).Select(a => (Guid?)a.Id).SingleOrDefaultAsync();

    private Task<IActionResult> ActAsync(Func<Task> action, string done) => ActAsync(action, () => done);

    private async Task<IActionResult> ActAsync(Func<Task> action, Func<string> done)
    {
        try
        {
            await action();
            TempData.Status(done());
        }
        catch (DomainException ex)
        {
            TempData.Error(ex.Message);
        }
        return RedirectToPage();
    }
}

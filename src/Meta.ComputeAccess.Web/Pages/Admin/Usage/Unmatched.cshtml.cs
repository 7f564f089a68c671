using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Usage;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Usage;

/// <summary>Jobs whose Slurm account matched no open allocation: assign (which charges) or dismiss with a reason.</summary>
public sealed class UnmatchedModel(PortalDbContext db, UnmatchedUsageResolution resolution) : PageModel
{
    public sealed record Row(long Id, string Cluster, string Account, string JobId, string User, DateTimeOffset EndedAt, decimal GpuHours, DateTimeOffset ReceivedAt, UnmatchedReason? Reason);

    /// <summary>Open unmatched usage of one account on one cluster, resolved together.</summary>
    public sealed record Group(Guid ClusterId, string Cluster, string Account, int Jobs, decimal GpuHours, DateTimeOffset LastReceivedAt);

    /// <summary>The most jobs listed one by one; the groups above count them all.</summary>
    public const int MaxRows = 500;

    public IReadOnlyList<Group> Groups { get; private set; } = [];

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public Task OnGetAsync() => LoadAsync();

    public Task<IActionResult> OnPostAssignAsync(long id, string account) =>
        ActAsync(async () =>
        {
            await resolution.AssignAsync(UnmatchedSelection.One(id), account ?? "", User.GetUserId());
            return $"Charged to {account}.";
        });

    public Task<IActionResult> OnPostAssignAllAsync(Guid clusterId, string jobsAccount, string account) =>
        ActAsync(async () => $"{await resolution.AssignAsync(UnmatchedSelection.AllOf(clusterId, jobsAccount ?? ""), account ?? "", User.GetUserId()):N0} jobs of {jobsAccount} charged to {account}.");

    public Task<IActionResult> OnPostDismissAllAsync(Guid clusterId, string jobsAccount, string reason) =>
        ActAsync(async () => $"{await resolution.DismissAsync(UnmatchedSelection.AllOf(clusterId, jobsAccount ?? ""), reason ?? "", User.GetUserId()):N0} jobs of {jobsAccount} dismissed.");

    public Task<IActionResult> OnPostDismissAsync(long id, string reason) =>
        ActAsync(async () =>
        {
            await resolution.DismissAsync(UnmatchedSelection.One(id), reason ?? "", User.GetUserId());
            return "Dismissed.";
        });

    /// <summary>Runs a resolution; a refusal is shown above the lists.</summary>
    private Task<IActionResult> ActAsync(Func<Task<string>> action) =>
        this.RunAsync(async () =>
        {
            TempData.Status(await action());
            return RedirectToPage();
        }, async () =>
        {
            await LoadAsync();
            return Page();
        });

    private async Task LoadAsync()
    {
        var open = db.UnmatchedUsage.AsNoTracking().Where(u => u.Status == UnmatchedUsageStatus.Open);
        var groups = await (from g in open.GroupBy(u => new { u.ClusterId, u.Account })
                                .Select(g => new { g.Key.ClusterId, g.Key.Account, Jobs = g.Count(), GpuHours = g.Sum(u => u.GpuHours), Last = g.Max(u => u.ReceivedAt) })
                            join c in db.Clusters on g.ClusterId equals c.Id
                            select new { g.ClusterId, Cluster = c.Name, g.Account, g.Jobs, g.GpuHours, g.Last }).ToListAsync();
        Groups = [.. groups.OrderByDescending(g => g.GpuHours).ThenBy(g => g.Account, StringComparer.Ordinal)
            .Select(g => new Group(g.ClusterId, g.Cluster, g.Account, g.Jobs, g.GpuHours, g.Last))];
        // The latest jobs first, then each one's record: same cluster, id, submit time (null, for jobs sent without one,
        // matching null) and end, which names the one partition of usage_records to look in (an index probe per row,
        // where joining before the limit would read every partition).
        var latest = open.OrderByDescending(u => u.ReceivedAt).ThenBy(u => u.Id).Take(MaxRows);
        Rows = await (from u in latest
                      from r in db.UsageRecords.Where(r => r.ClusterId == u.ClusterId && r.JobId == u.JobId && r.SubmittedAt == u.SubmittedAt && r.EndedAt == u.EndedAt)
                      join c in db.Clusters on u.ClusterId equals c.Id
                      orderby u.ReceivedAt descending, u.Id
                      select new Row(u.Id, c.Name, u.Account, r.JobId, r.UserName, r.EndedAt, u.GpuHours, u.ReceivedAt, u.Reason)).ToListAsync();
    }
}

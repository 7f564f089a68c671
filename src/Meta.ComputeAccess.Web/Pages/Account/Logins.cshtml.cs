using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary><c>/Account/Logins</c>: the signed-in user's login on each cluster; they propose theirs, an admin confirms it.</summary>
public sealed class LoginsModel(PortalDbContext db, ClusterLogins logins) : PageModel
{
    public sealed record Row(Guid ClusterId, string ClusterName, string SlurmClusterName, string? Login, bool Confirmed);

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public Task<IActionResult> OnGetAsync() => ShowAsync();

    public Task<IActionResult> OnPostProposeAsync(Guid clusterId, string? login) =>
        this.RunAsync(async () =>
        {
            await logins.ProposeAsync(User.GetUserId(), clusterId, login ?? "", HttpContext.RequestAborted);
            TempData.Status("Login proposed. The program's admins confirm it; until then clusters do not add you to accounts.");
            return RedirectToPage();
        }, ShowAsync, field: $"login-{clusterId}");

    private async Task<IActionResult> ShowAsync()
    {
        var userId = User.GetUserId();
        Rows = await (from c in db.Clusters.AsNoTracking()
                      where c.Status != ClusterStatus.Retired
                      join l in db.ClusterLogins.Where(l => l.UserId == userId) on c.Id equals l.ClusterId into mine
                      from l in mine.DefaultIfEmpty()
                      orderby c.Name
                      select new Row(c.Id, c.Name, c.SlurmClusterName, l == null ? null : l.Login, l != null && l.Confirmed)).ToListAsync(HttpContext.RequestAborted);
        return Page();
    }
}

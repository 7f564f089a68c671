using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Clusters;

/// <summary>
/// <c>/Admin/Clusters/Logins/{slug}</c>: people's logins on a cluster. Admins confirm proposed ones, set one by email,
/// remove one, or import a CSV of <c>email,login</c> lines (all or nothing, every wrong line listed).
/// </summary>
public sealed class LoginsModel(PortalDbContext db, ClusterLogins logins) : PageModel
{
    /// <summary>The largest CSV file taken (20,000 lines of email and login fit in about 1 MB).</summary>
    public const int MaxCsvBytes = 2 * 1024 * 1024;

    public sealed record Row(Guid UserId, string Name, string Email, string Login, bool Confirmed, DateTimeOffset ChangedAt);

    public Cluster Cluster { get; private set; } = null!;

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    /// <summary>The refused lines of the last import, shown above the form.</summary>
    public IReadOnlyList<string> ImportProblems { get; private set; } = [];

    public Task<IActionResult> OnGetAsync(string slug) => ShowAsync(slug);

    public Task<IActionResult> OnPostSetAsync(string slug, string? email, string? login) =>
        ActAsync(slug, (id, admin) => logins.SetAsync(id, email ?? "", login ?? "", admin, HttpContext.RequestAborted), $"Login {login} set for {email}.");

    public Task<IActionResult> OnPostConfirmAsync(string slug, Guid userId) =>
        ActAsync(slug, (id, admin) => logins.ConfirmAsync(id, userId, admin, HttpContext.RequestAborted), "Login confirmed.");

    public Task<IActionResult> OnPostRemoveAsync(string slug, Guid userId) =>
        ActAsync(slug, (id, admin) => logins.RemoveAsync(id, userId, admin, HttpContext.RequestAborted), "Login removed.");

    public async Task<IActionResult> OnPostImportAsync(string slug, string? csv, IFormFile? file)
    {
        if (await FindAsync(slug) is not { } cluster)
        {
            return NotFound();
        }
        if (file is { Length: > MaxCsvBytes } || csv is { Length: > MaxCsvBytes })
        {
            ModelState.AddModelError("csv", $"Import at most {MaxCsvBytes / 1024 / 1024} MB at a time.");
            return await ShowAsync(slug);
        }
        var text = csv ?? "";
        if (file is { Length: > 0 })
        {
            using var reader = new StreamReader(file.OpenReadStream(), new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true));
            try
            {
                text = await reader.ReadToEndAsync(HttpContext.RequestAborted);
            }
            catch (System.Text.DecoderFallbackException)
            {
                ModelState.AddModelError("csv", "The file is not UTF-8 text.");
                return await ShowAsync(slug);
            }
        }
        return await this.RunAsync(async () =>
        {
            var result = await logins.ImportAsync(cluster.Id, text, User.GetUserId(), HttpContext.RequestAborted);
            if (!result.Imported)
            {
                ModelState.AddModelError("csv", $"Nothing was imported: {result.Problems.Count} line(s) to fix.");
                ImportProblems = result.Problems;
                return await ShowAsync(slug);
            }
            TempData.Status($"Imported: {result.Added} added, {result.Changed} changed, {result.Unchanged} unchanged.");
            return RedirectToPage(new { slug });
        }, () => ShowAsync(slug), field: "csv");
    }

    private async Task<IActionResult> ActAsync(string slug, Func<Guid, Guid, Task> action, string done)
    {
        if (await FindAsync(slug) is not { } cluster)
        {
            return NotFound();
        }
        return await this.RunAsync(async () =>
        {
            await action(cluster.Id, User.GetUserId());
            TempData.Status(done);
            return RedirectToPage(new { slug });
        }, () => ShowAsync(slug));
    }

    private Task<Cluster?> FindAsync(string slug) =>
        db.Clusters.AsNoTracking().SingleOrDefaultAsync(c => c.Slug == slug, HttpContext.RequestAborted);

    private async Task<IActionResult> ShowAsync(string slug)
    {
        if (await FindAsync(slug) is not { } cluster)
        {
            return NotFound();
        }
        Cluster = cluster;
        Rows = await (from l in db.ClusterLogins.AsNoTracking()
                      where l.ClusterId == cluster.Id
                      join u in db.Users on l.UserId equals u.Id
                      orderby l.Confirmed, u.FullName
                      select new Row(l.UserId, u.FullName, u.Email ?? "", l.Login, l.Confirmed, l.ChangedAt)).ToListAsync(HttpContext.RequestAborted);
        return Page();
    }
}

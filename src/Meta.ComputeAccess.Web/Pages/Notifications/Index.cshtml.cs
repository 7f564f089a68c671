using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Notifications;

/// <summary>The signed-in user's notifications, newest first, with mark read and mark all read. Only their own rows, ever.</summary>
public sealed class IndexModel(PortalDbContext db, NotificationInbox inbox) : PageModel
{
    public const int PageSize = 20;

    public sealed record Row(Guid Id, string Title, string Summary, string? Link, DateTimeOffset CreatedAt, bool Read);

    [FromQuery(Name = "p")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public int Total { get; private set; }

    public int Unread { get; private set; }

    public int PageCount => Math.Max(1, (Total + PageSize - 1) / PageSize);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var userId = User.GetUserId();
        var mine = db.Notifications.AsNoTracking().Where(n => n.UserId == userId);
        Total = await mine.CountAsync(cancellationToken);
        Unread = await mine.CountAsync(n => n.ReadAt == null, cancellationToken);
        PageNumber = Math.Clamp(PageNumber, 1, PageCount);
        Rows = await mine.OrderByDescending(n => n.CreatedAt).ThenByDescending(n => n.Id)
            .Skip((PageNumber - 1) * PageSize).Take(PageSize)
            .Select(n => new Row(n.Id, n.Title, n.Summary, n.Link, n.CreatedAt, n.ReadAt != null))
            .ToListAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostReadAsync(Guid id, CancellationToken cancellationToken)
    {
        await inbox.MarkReadAsync(User.GetUserId(), id, cancellationToken);
        return RedirectToPage(new { p = PageNumber });
    }

    /// <summary>Marks the notice read and follows its link; only portal-local links are followed.</summary>
    public async Task<IActionResult> OnPostOpenAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await inbox.OpenAsync(User.GetUserId(), id, cancellationToken) is not { } notice)
        {
            return NotFound();
        }
        return Url.IsLocalUrl(notice.Link) ? LocalRedirect(notice.Link!) : RedirectToPage(new { p = PageNumber });
    }

    public async Task<IActionResult> OnPostReadAllAsync(CancellationToken cancellationToken)
    {
        var count = await inbox.MarkAllReadAsync(User.GetUserId(), cancellationToken);
        TempData.Status(count == 1 ? "1 notification marked read." : $"{count} notifications marked read.");
        return RedirectToPage();
    }
}

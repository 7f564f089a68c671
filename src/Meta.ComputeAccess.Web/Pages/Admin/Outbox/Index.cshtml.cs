using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Outbox;

/// <summary>The mail outbox: what is pending, sent and failed, with resend.</summary>
public sealed class IndexModel(PortalDbContext db, OutboxAdministration outbox) : PageModel
{
    public sealed record Row(Guid Id, string Kind, string ToAddress, string Subject, OutboxStatus Status, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset? SentAt, DateTimeOffset NextAttemptAt, string? LastError);

    [FromQuery(Name = "status")]
    public OutboxStatus? StatusFilter { get; set; }

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public Dictionary<OutboxStatus, int> Counts { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Counts = await db.OutboxMessages.GroupBy(m => m.Status).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        Rows = await db.OutboxMessages.AsNoTracking()
            .Where(m => StatusFilter == null || m.Status == StatusFilter)
            .OrderByDescending(m => m.CreatedAt).Take(200)
            .Select(m => new Row(m.Id, m.Kind, m.ToAddress, m.Subject, m.Status, m.Attempts, m.CreatedAt, m.SentAt, m.NextAttemptAt, m.LastError))
            .ToListAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostResendAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await outbox.ResendAsync(User.GetUserId(), id, cancellationToken))
        {
            return NotFound();
        }
        TempData.Status("The message will be sent again within a minute.");
        return RedirectToPage(new { status = StatusFilter });
    }
}

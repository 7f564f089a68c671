using Meta.ComputeAccess.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Dev;

/// <summary>
/// Development only (404 elsewhere): every queued email, so someone trying the portal locally can follow a
/// confirmation link without a mail server. Open to anonymous visitors because a new registrant is not signed in yet.
/// </summary>
[AllowAnonymous]
public sealed class MailboxModel(PortalDbContext db, IWebHostEnvironment environment) : PageModel
{
    public sealed record Message(Guid Id, DateTimeOffset CreatedAt, string ToAddress, string Subject, string TextBody, Meta.ComputeAccess.Notifications.OutboxStatus Status);

    public IReadOnlyList<Message> Messages { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (!environment.IsDevelopment())
        {
            return NotFound();
        }
        Messages = await db.OutboxMessages.AsNoTracking()
            .OrderByDescending(m => m.CreatedAt).Take(50)
            .Select(m => new Message(m.Id, m.CreatedAt, m.ToAddress, m.Subject, m.TextBody, m.Status))
            .ToListAsync(cancellationToken);
        return Page();
    }
}

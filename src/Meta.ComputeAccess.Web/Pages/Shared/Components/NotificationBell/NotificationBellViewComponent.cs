using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Shared.Components.NotificationBell;

/// <summary>The bell in the navigation bar: the signed-in user's unread count, from the partial index ix_notifications_unread.</summary>
public sealed class NotificationBellViewComponent(PortalDbContext db) : ViewComponent
{
    public async Task<IViewComponentResult> InvokeAsync()
    {
        var userId = UserClaimsPrincipal.GetUserId();
        var unread = await db.Notifications.CountAsync(n => n.UserId == userId && n.ReadAt == null, HttpContext.RequestAborted);
        return View(unread);
    }
}

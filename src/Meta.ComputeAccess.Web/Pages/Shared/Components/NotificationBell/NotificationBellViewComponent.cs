using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Mvc;

namespace Meta.ComputeAccess.Web.Pages.Shared.Components.NotificationBell;

/// <summary>
/// The bell in the navigation bar: the signed-in user's unread count, counted by the request's signed-in check
/// (<see cref="SessionLimits.SignedInCheck"/>, one query with the session and the terms); no query of its own.
/// </summary>
public sealed class NotificationBellViewComponent : ViewComponent
{
    public IViewComponentResult Invoke() => View(SessionLimits.SignedInCheck(HttpContext)?.UnreadNotifications ?? 0);
}

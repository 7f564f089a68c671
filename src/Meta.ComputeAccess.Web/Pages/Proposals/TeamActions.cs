using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>
/// The team pages' buttons (accept or decline an award, withdraw, remove a member or a file) have no form to show
/// again: done or refused, they come back to the page with the message (post, redirect, get), through
/// <see cref="PageActions.RunAsync(PageModel, Func{Task{IActionResult}}, Func{Task{IActionResult}}, string, string)"/>.
/// </summary>
internal static class TeamActions
{
    /// <param name="action">The module call; false when the proposal is not the caller's (404).</param>
    public static Task<IActionResult> RunButtonAsync(this PageModel page, Func<Task<bool>> action, string done, object routeValues) =>
        page.RunAsync(
            async () =>
            {
                if (!await action())
                {
                    return page.NotFound();
                }
                page.TempData.Status(done);
                return page.RedirectToPage(routeValues);
            },
            () =>
            {
                page.TempData.Error(string.Join(" ", page.ModelState[string.Empty]?.Errors.Select(e => e.ErrorMessage) ?? []));
                return Task.FromResult<IActionResult>(page.RedirectToPage(routeValues));
            });
}

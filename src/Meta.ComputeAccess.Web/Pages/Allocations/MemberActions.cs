using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Allocations;

/// <summary>
/// The members forms of <c>_AllocationOverview</c>, shared by the PI's page and the admin's: both bind the same fields
/// and call <see cref="AllocationMembers"/>; a refusal is shown beside the invite form and the page shown again.
/// </summary>
internal static class MemberActions
{
    /// <summary>The invite form's field (its refusals are shown beside it).</summary>
    public const string EmailField = "memberEmail";

    public static Task<IActionResult> InviteAsync(PageModel page, AllocationMembers members, Guid id, string? email, Func<Task<IActionResult>> showAgain) =>
        page.RunAsync(async () =>
        {
            if (await members.InviteAsync(id, await page.ViewerAsync(), email ?? "", page.HttpContext.RequestAborted) is not { } name)
            {
                return page.NotFound();
            }
            page.TempData.Status($"{name} is invited: they join once they accept, and are then added on the clusters where they have a confirmed login.");
            return page.RedirectToPage(new { id });
        }, showAgain, field: EmailField);

    public static Task<IActionResult> RemoveAsync(PageModel page, AllocationMembers members, Guid id, Guid userId, Func<Task<IActionResult>> showAgain) =>
        page.RunAsync(async () =>
        {
            if (!await members.RemoveAsync(id, await page.ViewerAsync(), userId, page.HttpContext.RequestAborted))
            {
                return page.NotFound();
            }
            page.TempData.Status("Removed. The clusters take them off the account at their agent's next run.");
            return page.RedirectToPage(new { id });
        }, showAgain, field: EmailField);
}

using Meta.ComputeAccess.Data;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Ui;

/// <summary>
/// The one way a page runs a domain action (docs/architecture.md, "Errors"): the action calls a Core module method
/// that validates, changes, audits and saves, then says where to go. When a rule refuses it (<see cref="DomainException"/>),
/// its message is shown beside the form (the field's own messages beside each field), nothing it changed is kept in
/// the unit of work, and the page is shown again by <paramref name="refused"/>.
/// </summary>
public static class PageActions
{
    /// <param name="field">The form field the refusal is shown beside; empty for the page's summary.</param>
    /// <param name="fieldPrefix">Prepended to <see cref="DomainException.Fields"/> keys (e.g. <c>Input.</c>).</param>
    public static async Task<IActionResult> RunAsync(
        this PageModel page,
        Func<Task<IActionResult>> action,
        Func<Task<IActionResult>> refused,
        string field = "",
        string fieldPrefix = "")
    {
        try
        {
            return await action();
        }
        catch (DomainException ex)
        {
            // Entities the refused action touched would otherwise be shown (and could be saved) as changed.
            page.HttpContext.RequestServices.GetRequiredService<PortalDbContext>().ChangeTracker.Clear();
            foreach (var (name, message) in ex.Fields)
            {
                page.ModelState.AddModelError(fieldPrefix + name, message);
            }
            page.ModelState.AddModelError(field, ex.Message);
            return await refused();
        }
    }

    /// <summary>For a page whose form is shown again as it is (<see cref="PageModel.Page"/>).</summary>
    public static Task<IActionResult> RunAsync(this PageModel page, Func<Task<IActionResult>> action, string field = "", string fieldPrefix = "") =>
        page.RunAsync(action, () => Task.FromResult<IActionResult>(page.Page()), field, fieldPrefix);
}

using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Calls;

public sealed class CreateModel(PortalDbContext db, AuditLog audit, TimeProvider clock) : PageModel
{
    [BindProperty]
    [Required(ErrorMessage = "Enter a title.")]
    [StringLength(200)]
    public string Title { get; set; } = "";

    [BindProperty]
    [Required(ErrorMessage = "Enter a slug.")]
    [RegularExpression("^[a-z][a-z0-9-]{1,59}$", ErrorMessage = "2 to 60 lowercase letters, digits or dashes, starting with a letter.")]
    public string Slug { get; set; } = "";

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }
        if (await db.Calls.AnyAsync(c => c.Slug == Slug, cancellationToken))
        {
            ModelState.AddModelError(nameof(Slug), "Another call already uses this slug.");
            return Page();
        }
        try
        {
            var call = Call.Create(Title, Slug, clock.GetUtcNow());
            call.SetSchedule(CallKind.Fixed, call.OpensAt, call.ClosesAt, call.AwardStart, call.AwardEnd, User.TimeZone().Id);
            db.Calls.Add(call);
            audit.Record(User.GetUserId(), "call.created", "call", call.Id.ToString(), $"Created call {call.Title}");
            await db.SaveChangesAsync(cancellationToken);
            TempData.Status("Draft call created. Describe it, offer clusters, add the rubric, then open it.");
            return RedirectToPage("Edit", new { slug = call.Slug });
        }
        catch (DomainException ex)
        {
            ModelState.AddModelError(string.Empty, ex.Message);
            return Page();
        }
    }
}

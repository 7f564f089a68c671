using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Admin.Calls;

public sealed class CreateModel(CallAdministration calls) : PageModel
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
        return await this.RunAsync(async () =>
        {
            var call = await calls.CreateAsync(Title, Slug, User.TimeZone().Id, User.GetUserId(), cancellationToken);
            TempData.Status("Draft call created. Describe it, offer clusters, add the rubric, then open it.");
            return RedirectToPage("Edit", new { slug = call.Slug });
        });
    }
}

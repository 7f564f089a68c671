using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Allocations;

/// <summary><c>/Allocations/{id}/Supplement</c>: the PI asks for more hours on a cluster and/or a later end date.</summary>
public sealed class SupplementModel(PortalDbContext db, AllocationService allocations) : PageModel
{
    public sealed class InputModel
    {
        [Display(Name = "Cluster")]
        public Guid? ClusterId { get; set; }

        [Display(Name = "Extra hours")]
        [Range(typeof(decimal), "0", "10000000", ErrorMessage = "Enter a positive number of hours.")]
        public decimal? Hours { get; set; }

        [Display(Name = "New end date")]
        [DataType(DataType.Date)]
        public DateOnly? EndDate { get; set; }

        [Required(ErrorMessage = "Explain why the project needs this.")]
        [StringLength(4000, MinimumLength = 20, ErrorMessage = "Write 20 to 4,000 characters.")]
        public string Justification { get; set; } = "";
    }

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public Meta.ComputeAccess.Allocations.Allocation Allocation { get; private set; } = null!;

    public IReadOnlyList<(Guid Id, string Name)> Clusters { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(Guid id) => await LoadAsync(id) ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync(Guid id)
    {
        if (!await LoadAsync(id))
        {
            return NotFound();
        }
        if (!ModelState.IsValid)
        {
            return Page();
        }
        return await this.RunAsync(async () =>
        {
            await allocations.RequestSupplementAsync(id, Input.ClusterId, Input.Hours, Input.EndDate, Input.Justification, User.GetUserId(), HttpContext.RequestAborted);
            TempData.Status("Your request was sent to the program; you will get an email when it is decided.");
            return Redirect($"/Allocations/{id}");
        });
    }

    private async Task<bool> LoadAsync(Guid id)
    {
        var viewer = await this.ViewerAsync();
        var allocation = await db.Allocations.VisibleTo(viewer).AsNoTracking().SingleOrDefaultAsync(a => a.Id == id);
        if (allocation is null || !allocation.MayRequestSupplement(viewer.UserId))
        {
            return false;
        }
        Allocation = allocation;
        Clusters = (await (from q in db.AllocationQuotas
                           where q.AllocationId == id
                           join c in db.Clusters on q.ClusterId equals c.Id
                           orderby c.Name
                           select new { c.Id, c.Name }).ToListAsync())
            .Select(c => (c.Id, c.Name)).ToList();
        return true;
    }
}

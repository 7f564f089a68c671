using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Clusters;

/// <summary>Create a cluster (no slug) or show and edit one (<c>/Admin/Clusters/Edit/{slug}</c>).</summary>
public sealed class EditModel(PortalDbContext db, ClusterAdministration clusters) : PageModel
{
    [BindProperty]
    public InputModel Input { get; set; } = new();

    public Cluster? Existing { get; private set; }

    public sealed class InputModel
    {
        [Required(ErrorMessage = "Enter the cluster's name.")]
        [StringLength(100)]
        public string Name { get; set; } = "";

        [Required(ErrorMessage = "Enter a slug: lowercase letters, digits and dashes.")]
        [RegularExpression("^[a-z][a-z0-9-]{1,39}$", ErrorMessage = "2 to 40 lowercase letters, digits or dashes, starting with a letter.")]
        public string Slug { get; set; } = "";

        [Required(ErrorMessage = "Enter the accelerator model, for example H100 80GB.")]
        [StringLength(100)]
        [Display(Name = "Accelerator model")]
        public string AcceleratorModel { get; set; } = "";

        [Range(1, 100_000, ErrorMessage = "Between 1 and 100,000 nodes.")]
        public int Nodes { get; set; } = 1;

        [Range(1, 64, ErrorMessage = "Between 1 and 64 accelerators per node.")]
        [Display(Name = "Accelerators per node")]
        public int AcceleratorsPerNode { get; set; } = 8;

        [Required(ErrorMessage = "Enter the cluster's name in Slurm.")]
        [RegularExpression("^[A-Za-z0-9_.-]{1,64}$", ErrorMessage = "Letters, digits, dots, dashes and underscores only.")]
        [Display(Name = "Slurm cluster name")]
        public string SlurmClusterName { get; set; } = "";

        [Display(Name = "Time zone of sacct's times")]
        public string TimeZoneId { get; set; } = "UTC";

        public ClusterStatus Status { get; set; } = ClusterStatus.Available;
    }

    public async Task<IActionResult> OnGetAsync(string? slug, CancellationToken cancellationToken)
    {
        var shown = await ShowAsync(slug, cancellationToken);
        if (Existing is { } cluster)
        {
            Input = new InputModel
            {
                Name = cluster.Name,
                Slug = cluster.Slug,
                AcceleratorModel = cluster.AcceleratorModel,
                Nodes = cluster.Nodes,
                AcceleratorsPerNode = cluster.AcceleratorsPerNode,
                SlurmClusterName = cluster.SlurmClusterName,
                TimeZoneId = cluster.TimeZoneId,
                Status = cluster.Status,
            };
        }
        return shown;
    }

    public async Task<IActionResult> OnPostAsync(string? slug, CancellationToken cancellationToken)
    {
        if (slug is not null)
        {
            // The slug names the cluster for good: the one in the URL, not the form's.
            Input.Slug = slug;
            ModelState.Remove("Input.Slug");
        }
        if (!UserTime.IsKnownZone(Input.TimeZoneId))
        {
            ModelState.AddModelError("Input.TimeZoneId", "Choose a time zone from the list.");
        }
        if (!ModelState.IsValid)
        {
            return await ShowAsync(slug, cancellationToken);
        }
        var specification = new ClusterSpecification(Input.Name, Input.AcceleratorModel, Input.Nodes, Input.AcceleratorsPerNode, Input.SlurmClusterName, Input.TimeZoneId);
        return await this.RunAsync(async () =>
        {
            var cluster = slug is null
                ? await clusters.CreateAsync(Input.Slug, specification, User.GetUserId(), cancellationToken)
                : await clusters.UpdateAsync(slug, specification, Input.Status, User.GetUserId(), cancellationToken);
            TempData.Status($"Saved {cluster.Name}.");
            return RedirectToPage("Index");
        }, () => ShowAsync(slug, cancellationToken), fieldPrefix: "Input.");
    }

    /// <summary>The form, for a new cluster or the one named by <paramref name="slug"/> (404 if there is none).</summary>
    private async Task<IActionResult> ShowAsync(string? slug, CancellationToken cancellationToken)
    {
        if (slug is not null)
        {
            Existing = await db.Clusters.AsNoTracking().SingleOrDefaultAsync(c => c.Slug == slug, cancellationToken);
            if (Existing is null)
            {
                return NotFound();
            }
        }
        return Page();
    }
}

using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Clusters;

/// <summary>Create a cluster (no slug) or show and edit one (<c>/Admin/Clusters/Edit/{slug}</c>).</summary>
public sealed class EditModel(PortalDbContext db, AuditLog audit, TimeProvider clock) : PageModel
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
        if (slug is null)
        {
            return Page();
        }
        Existing = await db.Clusters.AsNoTracking().SingleOrDefaultAsync(c => c.Slug == slug, cancellationToken);
        if (Existing is null)
        {
            return NotFound();
        }
        Input = new InputModel
        {
            Name = Existing.Name,
            Slug = Existing.Slug,
            AcceleratorModel = Existing.AcceleratorModel,
            Nodes = Existing.Nodes,
            AcceleratorsPerNode = Existing.AcceleratorsPerNode,
            SlurmClusterName = Existing.SlurmClusterName,
            TimeZoneId = Existing.TimeZoneId,
            Status = Existing.Status,
        };
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string? slug, CancellationToken cancellationToken)
    {
        Cluster? cluster = null;
        if (slug is not null)
        {
            cluster = await db.Clusters.SingleOrDefaultAsync(c => c.Slug == slug, cancellationToken);
            if (cluster is null)
            {
                return NotFound();
            }
            Existing = cluster;
            Input.Slug = cluster.Slug;
            ModelState.Remove("Input.Slug");
        }
        if (!UserTime.IsKnownZone(Input.TimeZoneId))
        {
            ModelState.AddModelError("Input.TimeZoneId", "Choose a time zone from the list.");
        }
        if (!ModelState.IsValid)
        {
            return Page();
        }
        if (await db.Clusters.AnyAsync(c => c.Id != (cluster == null ? Guid.Empty : cluster.Id) && (c.Name == Input.Name.Trim() || c.Slug == Input.Slug), cancellationToken))
        {
            ModelState.AddModelError("Input.Name", "Another cluster already has this name or slug.");
            return Page();
        }
        try
        {
            if (cluster is null)
            {
                cluster = Cluster.Create(Input.Name, Input.Slug, Input.AcceleratorModel, Input.Nodes, Input.AcceleratorsPerNode, Input.SlurmClusterName, clock.GetUtcNow(), Input.TimeZoneId);
                db.Clusters.Add(cluster);
                audit.Record(User.GetUserId(), "cluster.created", "cluster", cluster.Id.ToString(), $"Created cluster {cluster.Name}");
            }
            else
            {
                cluster.Update(Input.Name, Input.AcceleratorModel, Input.Nodes, Input.AcceleratorsPerNode, Input.SlurmClusterName, Input.TimeZoneId);
                if (cluster.Status != Input.Status)
                {
                    audit.Record(User.GetUserId(), "cluster.status", "cluster", cluster.Id.ToString(), $"{cluster.Name}: {cluster.Status} → {Input.Status}");
                    cluster.ChangeStatus(Input.Status);
                }
                audit.Record(User.GetUserId(), "cluster.updated", "cluster", cluster.Id.ToString(), $"Updated cluster {cluster.Name}");
            }
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DomainException ex)
        {
            ModelState.AddModelError(string.Empty, ex.Message);
            return Page();
        }
        TempData.Status($"Saved {cluster.Name}.");
        return RedirectToPage("Index");
    }
}

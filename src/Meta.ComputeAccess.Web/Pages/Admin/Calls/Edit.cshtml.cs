using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Calls;

/// <summary>
/// Edits a call: texts and schedule, clusters with budgets, and the rubric. The call object refuses what its
/// state forbids (an open call only grows more permissive); its message is shown here.
/// </summary>
public sealed class EditModel(PortalDbContext db, AuditLog audit) : PageModel
{
    public Call Call { get; private set; } = null!;

    public IReadOnlyList<Cluster> AllClusters { get; private set; } = [];

    /// <summary>Bound only by the Settings handler, so the cluster and rubric forms are not validated against it.</summary>
    public SettingsInput Settings { get; set; } = new();

    public TimeZoneInfo Zone => User.TimeZone();

    public sealed class SettingsInput
    {
        [Required(ErrorMessage = "Enter a title.")]
        [StringLength(200)]
        public string Title { get; set; } = "";

        [StringLength(20_000)]
        [Display(Name = "Description (Markdown)")]
        public string Description { get; set; } = "";

        [StringLength(5000)]
        public string Eligibility { get; set; } = "";

        public CallKind Kind { get; set; }

        [Required(ErrorMessage = "Enter when submissions open.")]
        public string OpensAt { get; set; } = "";

        public string? ClosesAt { get; set; }

        public DateOnly AwardStart { get; set; }

        public DateOnly AwardEnd { get; set; }

        [Range(1, 10, ErrorMessage = "Between 1 and 10 reviews per proposal.")]
        public int ReviewsPerProposal { get; set; } = 3;

        public ReviewMode ReviewMode { get; set; }
    }

    public async Task<IActionResult> OnGetAsync(string slug, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(slug, tracked: false, cancellationToken))
        {
            return NotFound();
        }
        Settings = new SettingsInput
        {
            Title = Call.Title,
            Description = Call.DescriptionMarkdown,
            Eligibility = Call.EligibilityText,
            Kind = Call.Kind,
            OpensAt = UserTime.ToInputValue(Call.OpensAt, Zone),
            ClosesAt = UserTime.ToInputValue(Call.ClosesAt, Zone),
            AwardStart = Call.AwardStart,
            AwardEnd = Call.AwardEnd,
            ReviewsPerProposal = Call.ReviewsPerProposal,
            ReviewMode = Call.ReviewMode,
        };
        return Page();
    }

    public async Task<IActionResult> OnPostSettingsAsync(string slug, [Bind(Prefix = nameof(Settings))] SettingsInput settings, CancellationToken cancellationToken)
    {
        Settings = settings;
        if (!await LoadAsync(slug, tracked: true, cancellationToken))
        {
            return NotFound();
        }
        if (!UserTime.TryParseInput(Settings.OpensAt, Zone, out var opens, out var openError))
        {
            ModelState.AddModelError("Settings.OpensAt", openError);
        }
        DateTimeOffset? closes = null;
        if (Settings.Kind == CallKind.Fixed)
        {
            if (UserTime.TryParseInput(Settings.ClosesAt, Zone, out var c, out var closeError))
            {
                closes = c;
            }
            else
            {
                ModelState.AddModelError("Settings.ClosesAt", string.IsNullOrWhiteSpace(Settings.ClosesAt) ? "A call with a deadline needs a closing time." : closeError);
            }
        }
        if (!ModelState.IsValid)
        {
            return Page();
        }
        try
        {
            Call.SetTexts(Settings.Title, Settings.Description, Settings.Eligibility);
            Call.SetSchedule(Settings.Kind, opens, closes, Settings.AwardStart, Settings.AwardEnd, Zone.Id);
            Call.SetReview(Settings.ReviewsPerProposal, Settings.ReviewMode);
        }
        catch (DomainException ex)
        {
            ModelState.AddModelError(string.Empty, ex.Message);
            return Page();
        }
        return await SaveAsync("call.updated", $"Updated settings of {Call.Title}", cancellationToken);
    }

    public async Task<IActionResult> OnPostClusterAsync(string slug, Guid clusterId, decimal budget, decimal min, decimal max, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(slug, tracked: true, cancellationToken))
        {
            return NotFound();
        }
        if (!ModelState.IsValid || AllClusters.All(c => c.Id != clusterId))
        {
            TempData.Error("Choose a cluster and enter budget, minimum and maximum as numbers of hours.");
            return RedirectToPage(new { slug });
        }
        return await ApplyAsync(() => Call.OfferCluster(clusterId, budget, min, max), "call.cluster",
            $"{Call.Title}: offered {AllClusters.First(c => c.Id == clusterId).Name} with {budget:N0} h (requests {min:N0}–{max:N0} h)", cancellationToken);
    }

    public async Task<IActionResult> OnPostRemoveClusterAsync(string slug, Guid clusterId, CancellationToken cancellationToken) =>
        await LoadAsync(slug, tracked: true, cancellationToken)
            ? await ApplyAsync(() => Call.WithdrawCluster(clusterId), "call.cluster", $"{Call.Title}: withdrew a cluster", cancellationToken)
            : NotFound();

    public async Task<IActionResult> OnPostAddCriterionAsync(string slug, string name, string? guidance, decimal weight, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(slug, tracked: true, cancellationToken))
        {
            return NotFound();
        }
        if (!ModelState.IsValid)
        {
            TempData.Error("Enter the criterion's name and a weight as a number.");
            return RedirectToPage(new { slug });
        }
        return await ApplyAsync(() => Call.AddCriterion(name ?? "", guidance ?? "", weight), "call.rubric", $"{Call.Title}: added criterion {name}", cancellationToken);
    }

    public async Task<IActionResult> OnPostUpdateCriterionAsync(string slug, Guid criterionId, string name, string? guidance, decimal weight, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(slug, tracked: true, cancellationToken))
        {
            return NotFound();
        }
        if (!ModelState.IsValid)
        {
            TempData.Error("Enter the criterion's name and a weight as a number.");
            return RedirectToPage(new { slug });
        }
        return await ApplyAsync(() => Call.UpdateCriterion(criterionId, name ?? "", guidance ?? "", weight), "call.rubric", $"{Call.Title}: updated criterion {name}", cancellationToken);
    }

    public async Task<IActionResult> OnPostRemoveCriterionAsync(string slug, Guid criterionId, CancellationToken cancellationToken) =>
        await LoadAsync(slug, tracked: true, cancellationToken)
            ? await ApplyAsync(() => Call.RemoveCriterion(criterionId), "call.rubric", $"{Call.Title}: removed a criterion", cancellationToken)
            : NotFound();

    private async Task<IActionResult> ApplyAsync(Action change, string action, string summary, CancellationToken cancellationToken)
    {
        try
        {
            change();
        }
        catch (DomainException ex)
        {
            TempData.Error(ex.Message);
            return RedirectToPage(new { slug = Call.Slug });
        }
        return await SaveAsync(action, summary, cancellationToken);
    }

    private async Task<IActionResult> SaveAsync(string action, string summary, CancellationToken cancellationToken)
    {
        audit.Record(User.GetUserId(), action, "call", Call.Id.ToString(), summary);
        await db.SaveChangesAsync(cancellationToken);
        TempData.Status("Saved.");
        return RedirectToPage(new { slug = Call.Slug });
    }

    private async Task<bool> LoadAsync(string slug, bool tracked, CancellationToken cancellationToken)
    {
        var query = tracked ? db.Calls : db.Calls.AsNoTracking();
        if (await query.SingleOrDefaultAsync(c => c.Slug == slug, cancellationToken) is not { } call)
        {
            return false;
        }
        Call = call;
        AllClusters = await db.Clusters.AsNoTracking().Where(c => c.Status != ClusterStatus.Retired).OrderBy(c => c.Name).ToListAsync(cancellationToken);
        return true;
    }
}

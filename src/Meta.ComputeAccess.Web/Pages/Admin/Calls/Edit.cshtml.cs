using System.ComponentModel.DataAnnotations;
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
/// Edits a call: texts and schedule, clusters with budgets, and the rubric. The call refuses what its state forbids
/// (an open call only grows more permissive); the refusal is shown beside the form that asked, as it was typed.
/// </summary>
public sealed class EditModel(PortalDbContext db, CallAdministration calls) : PageModel
{
    /// <summary>Where a refusal of the cluster form is shown.</summary>
    public const string ClusterForm = "Cluster";

    /// <summary>Where a refusal of the new-criterion form is shown.</summary>
    public const string NewCriterionForm = "NewCriterion";

    public sealed record ClusterOption(Guid Id, string Name, bool Retired);

    public Call Call { get; private set; } = null!;

    /// <summary>The clusters that can be offered, and the retired ones this call already offers (for their names).</summary>
    public IReadOnlyList<ClusterOption> Clusters { get; private set; } = [];

    /// <summary>Bound only by the Settings handler, so the cluster and rubric forms are not validated against it.</summary>
    public SettingsInput Settings { get; set; } = new();

    /// <summary>The form whose post was refused (its key in the model state), to show it again as typed.</summary>
    public string? RefusedForm { get; private set; }

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

    public static string CriterionForm(Guid criterionId) => $"Criterion.{criterionId}";

    /// <summary>What was typed into <paramref name="field"/> of <paramref name="form"/> when that form's post was refused.</summary>
    public string? Typed(string form, string field) => RefusedForm == form ? ModelState[field]?.AttemptedValue : null;

    public Task<IActionResult> OnGetAsync(string slug, CancellationToken cancellationToken) => ShowAsync(slug, settingsFromCall: true, cancellationToken);

    public async Task<IActionResult> OnPostSettingsAsync(string slug, [Bind(Prefix = nameof(Settings))] SettingsInput settings, CancellationToken cancellationToken)
    {
        Settings = settings;
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
            return await ShowAsync(slug, settingsFromCall: false, cancellationToken);
        }
        var input = new CallSettings(Settings.Title, Settings.Description, Settings.Eligibility, Settings.Kind, opens, closes,
            Settings.AwardStart, Settings.AwardEnd, Zone.Id, Settings.ReviewsPerProposal, Settings.ReviewMode);
        return await SaveAsync(slug, "", () => calls.UpdateSettingsAsync(slug, input, User.GetUserId(), cancellationToken), cancellationToken);
    }

    public Task<IActionResult> OnPostClusterAsync(string slug, Guid clusterId, decimal budget, decimal min, decimal max, CancellationToken cancellationToken) =>
        SaveAsync(slug, ClusterForm, () => calls.OfferClusterAsync(slug, new ClusterOffer(clusterId, budget, min, max), User.GetUserId(), cancellationToken), cancellationToken,
            invalid: "Choose a cluster and enter budget, minimum and maximum as numbers of hours.");

    public Task<IActionResult> OnPostRemoveClusterAsync(string slug, Guid clusterId, CancellationToken cancellationToken) =>
        SaveAsync(slug, ClusterForm, () => calls.WithdrawClusterAsync(slug, clusterId, User.GetUserId(), cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostAddCriterionAsync(string slug, string name, string? guidance, decimal weight, CancellationToken cancellationToken) =>
        SaveAsync(slug, NewCriterionForm, () => calls.AddCriterionAsync(slug, name ?? "", guidance ?? "", weight, User.GetUserId(), cancellationToken), cancellationToken,
            invalid: "Enter the criterion's name and a weight as a number.");

    public Task<IActionResult> OnPostUpdateCriterionAsync(string slug, Guid criterionId, string name, string? guidance, decimal weight, CancellationToken cancellationToken) =>
        SaveAsync(slug, CriterionForm(criterionId), () => calls.UpdateCriterionAsync(slug, criterionId, name ?? "", guidance ?? "", weight, User.GetUserId(), cancellationToken), cancellationToken,
            invalid: "Enter the criterion's name and a weight as a number.");

    public Task<IActionResult> OnPostRemoveCriterionAsync(string slug, Guid criterionId, CancellationToken cancellationToken) =>
        SaveAsync(slug, CriterionForm(criterionId), () => calls.RemoveCriterionAsync(slug, criterionId, User.GetUserId(), cancellationToken), cancellationToken);

    /// <summary>
    /// Runs one form's change; a form that did not bind (<paramref name="invalid"/>) or a refused change is shown
    /// beside that form (<paramref name="form"/>), with the settings form as the call has it.
    /// </summary>
    private async Task<IActionResult> SaveAsync(string slug, string form, Func<Task> change, CancellationToken cancellationToken, string? invalid = null)
    {
        var settingsFromCall = form.Length > 0;
        if (!ModelState.IsValid && invalid is not null)
        {
            ModelState.AddModelError(form, invalid);
            RefusedForm = form;
            return await ShowAsync(slug, settingsFromCall, cancellationToken);
        }
        return await this.RunAsync(async () =>
        {
            await change();
            TempData.Status("Saved.");
            return RedirectToPage(new { slug });
        }, () =>
        {
            RefusedForm = form;
            return ShowAsync(slug, settingsFromCall, cancellationToken);
        }, field: form, fieldPrefix: form.Length == 0 ? "Settings." : "");
    }

    private async Task<IActionResult> ShowAsync(string slug, bool settingsFromCall, CancellationToken cancellationToken)
    {
        if (await db.Calls.AsNoTracking().SingleOrDefaultAsync(c => c.Slug == slug, cancellationToken) is not { } call)
        {
            return NotFound();
        }
        Call = call;
        var offered = call.Clusters.Select(c => c.ClusterId).ToList();
        Clusters = await db.Clusters.AsNoTracking()
            .Where(c => c.Status != ClusterStatus.Retired || offered.Contains(c.Id))
            .OrderBy(c => c.Name)
            .Select(c => new ClusterOption(c.Id, c.Name, c.Status == ClusterStatus.Retired))
            .ToListAsync(cancellationToken);
        if (settingsFromCall)
        {
            Settings = new SettingsInput
            {
                Title = call.Title,
                Description = call.DescriptionMarkdown,
                Eligibility = call.EligibilityText,
                Kind = call.Kind,
                OpensAt = UserTime.ToInputValue(call.OpensAt, Zone),
                ClosesAt = UserTime.ToInputValue(call.ClosesAt, Zone),
                AwardStart = call.AwardStart,
                AwardEnd = call.AwardEnd,
                ReviewsPerProposal = call.ReviewsPerProposal,
                ReviewMode = call.ReviewMode,
            };
        }
        return Page();
    }
}

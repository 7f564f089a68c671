using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Pages.Shared;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>Edit a draft (saved as it is) and submit it (checked for completeness, refused after the deadline).</summary>
public sealed class EditModel(PortalDbContext db, ProposalEditing editing, TimeProvider clock) : PageModel
{
    [BindProperty]
    public InputModel Input { get; set; } = new();

    public Proposal Proposal { get; private set; } = null!;

    public Call Call { get; private set; } = null!;

    public IReadOnlyDictionary<Guid, string> ClusterNames { get; private set; } = new Dictionary<Guid, string>();

    public DateTimeOffset Now { get; private set; }

    public sealed class InputModel
    {
        public uint Version { get; set; }

        [StringLength(200)]
        public string Title { get; set; } = "";

        [StringLength(20_000)]
        public string AbstractMarkdown { get; set; } = "";

        [StringLength(700)]
        [Display(Name = "Keywords")]
        public string Keywords { get; set; } = "";

        [StringLength(100)]
        public string ResearchField { get; set; } = "";

        [StringLength(20_000)]
        public string ComputeJustification { get; set; } = "";

        public bool? UsesPersonalData { get; set; }

        [StringLength(5000)]
        public string PersonalDataDetails { get; set; } = "";

        public bool? InvolvesHumanSubjects { get; set; }

        [StringLength(5000)]
        public string HumanSubjectsDetails { get; set; } = "";

        public bool? HasDualUseRisk { get; set; }

        [StringLength(5000)]
        public string DualUseDetails { get; set; } = "";

        [StringLength(5000)]
        public string Licences { get; set; } = "";

        public List<PlannedOutputs> Outputs { get; set; } = [];

        [StringLength(5000)]
        public string OutputsDetails { get; set; } = "";

        public List<RequestInput> Requests { get; set; } = [];
    }

    public sealed class RequestInput
    {
        public Guid ClusterId { get; set; }

        [Range(0, 1_000_000_000, ErrorMessage = "Enter hours between 0 and 1,000,000,000.")]
        public decimal Requested { get; set; }

        [Range(0, 1_000_000_000, ErrorMessage = "Enter hours between 0 and 1,000,000,000.")]
        public decimal MinimumViable { get; set; }
    }

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        if (!Proposal.IsEditable)
        {
            return RedirectToPage("Details", new { id });
        }
        var p = Proposal;
        Input = new InputModel
        {
            Version = p.Version,
            Title = p.Title,
            AbstractMarkdown = p.AbstractMarkdown,
            Keywords = string.Join(", ", p.Keywords),
            ResearchField = p.ResearchField,
            ComputeJustification = p.ComputeJustification,
            UsesPersonalData = p.UsesPersonalData,
            PersonalDataDetails = p.PersonalDataDetails,
            InvolvesHumanSubjects = p.InvolvesHumanSubjects,
            HumanSubjectsDetails = p.HumanSubjectsDetails,
            HasDualUseRisk = p.HasDualUseRisk,
            DualUseDetails = p.DualUseDetails,
            Licences = p.Licences,
            Outputs = [.. Enum.GetValues<PlannedOutputs>().Where(o => o != PlannedOutputs.None && p.PlannedOutputs.HasFlag(o))],
            OutputsDetails = p.OutputsDetails,
            Requests = [.. Call.Clusters.Select(c => new RequestInput
            {
                ClusterId = c.ClusterId,
                Requested = p.Requests.FirstOrDefault(r => r.ClusterId == c.ClusterId)?.RequestedHours ?? 0,
                MinimumViable = p.Requests.FirstOrDefault(r => r.ClusterId == c.ClusterId)?.MinimumViableHours ?? 0,
            })],
        };
        return Page();
    }

    public async Task<IActionResult> OnPostSaveAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid)
        {
            return await ShowAsync(id, cancellationToken);
        }
        return await this.RunAsync(async () =>
        {
            if (await editing.SaveDraftAsync(id, User.GetUserId(), Input.Version, ToContent(Input), cancellationToken) is null)
            {
                return NotFound();
            }
            TempData.Status("Draft saved.");
            return RedirectToPage(new { id });
        }, () => ShowAsync(id, cancellationToken));
    }

    /// <summary>Saves the form, then submits what was saved: a refused submission keeps the saved draft and says what is missing.</summary>
    public async Task<IActionResult> OnPostSubmitAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid)
        {
            return await ShowAsync(id, cancellationToken);
        }
        uint? saved = null;
        return await this.RunAsync(async () =>
        {
            var me = User.GetUserId();
            saved = await editing.SaveDraftAsync(id, me, Input.Version, ToContent(Input), cancellationToken);
            if (saved is null || !await editing.SubmitAsync(id, me, saved.Value, cancellationToken))
            {
                return NotFound();
            }
            TempData.Status("Submitted. The whole team can follow its progress here.");
            return RedirectToPage("Details", new { id });
        }, () =>
        {
            if (saved is { } version)
            {
                // The saved row has a new version; the form shown again must carry it, not the posted one (the form
                // renders the posted value first), or the next save would be refused as someone else's change.
                Input.Version = version;
                ModelState.Remove($"{nameof(Input)}.{nameof(Input.Version)}");
                TempData.Status("Your changes are saved.");
            }
            return ShowAsync(id, cancellationToken);
        }, fieldPrefix: $"{nameof(Input)}.");
    }

    private static ProposalContent ToContent(InputModel input) => new(
        input.Title ?? "",
        input.AbstractMarkdown ?? "",
        (input.Keywords ?? "").Split([',', ';', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        input.ResearchField ?? "",
        input.ComputeJustification ?? "",
        input.UsesPersonalData,
        input.PersonalDataDetails ?? "",
        input.HasDualUseRisk,
        input.DualUseDetails ?? "",
        input.Licences ?? "",
        input.Outputs.Aggregate(PlannedOutputs.None, (all, o) => all | o),
        input.OutputsDetails ?? "",
        [.. input.Requests.Select(r => new RequestedHours(r.ClusterId, r.Requested, r.MinimumViable))],
        input.InvolvesHumanSubjects,
        input.HumanSubjectsDetails ?? "");

    /// <summary>The form shown again (with the posted values and the messages); 404 for someone not on the team.</summary>
    private async Task<IActionResult> ShowAsync(Guid id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        var proposal = await db.Proposals.AsNoTracking().VisibleTo(Viewer.Applicant(User.GetUserId())).Include(p => p.Requests)
            .SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (proposal is null)
        {
            return false;
        }
        Proposal = proposal;
        (Call, ClusterNames) = await ProposalView.LoadCallAsync(db, proposal.CallId, cancellationToken);
        Now = clock.GetUtcNow();
        return true;
    }
}

using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>Edit a draft (saved as it is) and submit it (checked for completeness, refused after the deadline).</summary>
public sealed class EditModel(PortalDbContext db, Notifier notifier, TimeProvider clock) : PageModel
{
    [BindProperty]
    public InputModel Input { get; set; } = new();

    public Proposal Proposal { get; private set; } = null!;

    public Call Call { get; private set; } = null!;

    public Dictionary<Guid, string> ClusterNames { get; private set; } = [];

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

    public Task<IActionResult> OnPostSaveAsync(Guid id, CancellationToken cancellationToken) => SaveAsync(id, submit: false, cancellationToken);

    public Task<IActionResult> OnPostSubmitAsync(Guid id, CancellationToken cancellationToken) => SaveAsync(id, submit: true, cancellationToken);

    private async Task<IActionResult> SaveAsync(Guid id, bool submit, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken, tracked: true))
        {
            return NotFound();
        }
        if (!ModelState.IsValid)
        {
            return Page();
        }
        var me = User.GetUserId();
        try
        {
            db.Entry(Proposal).Property(p => p.Version).OriginalValue = Input.Version;
            Proposal.UpdateDraft(ToContent(Input), Call, Now);
            await db.SaveChangesAsync(cancellationToken);
            // The saved row has a new version; a page shown again must carry it, not the posted one (the form
            // renders the posted value first), or the next save would be refused as someone else's change.
            Input.Version = Proposal.Version;
            ModelState.Remove($"{nameof(Input)}.{nameof(Input.Version)}");
        }
        catch (DomainException ex)
        {
            ModelState.AddModelError(string.Empty, ex.Message);
            return Page();
        }
        catch (DbUpdateConcurrencyException)
        {
            ModelState.AddModelError(string.Empty, "Someone else on the team saved this proposal while you were editing. Copy your changes, reload the page and apply them again.");
            return Page();
        }
        if (!submit)
        {
            TempData.Status("Draft saved.");
            return RedirectToPage(new { id });
        }
        try
        {
            Proposal.Submit(Call, me, clock.GetUtcNow());
            // The whole team hears of it, in the same transaction as the submission.
            var team = Proposal.Members.Where(m => m.UserId is not null).Select(m => m.UserId!.Value);
            await notifier.NotifyAsync(team, NotificationKinds.ProposalSubmitted, Proposal.Title, $"/Proposals/Details/{id}",
                new Dictionary<string, string> { ["call"] = Call.Title }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            TempData.Status("Submitted. The whole team can follow its progress here.");
            return RedirectToPage("Details", new { id });
        }
        catch (ProposalIncompleteException ex)
        {
            foreach (var (field, message) in ex.Problems)
            {
                ModelState.AddModelError("Input." + field, message);
            }
            ModelState.AddModelError(string.Empty, "Your changes are saved, but the proposal is not complete yet: see the messages beside the fields.");
            return Page();
        }
        catch (DomainException ex)
        {
            ModelState.AddModelError(string.Empty, ex.Message);
            return Page();
        }
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
        [.. input.Requests.Select(r => new RequestedHours(r.ClusterId, r.Requested, r.MinimumViable))]);

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken, bool tracked = false)
    {
        var query = db.Proposals.VisibleToMember(User.GetUserId()).Include(p => p.Requests).Include(p => p.Members).AsSplitQuery();
        var proposal = await (tracked ? query : query.AsNoTracking()).SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (proposal is null)
        {
            return false;
        }
        Proposal = proposal;
        Call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == proposal.CallId, cancellationToken);
        var ids = Call.Clusters.Select(c => c.ClusterId).ToList();
        ClusterNames = await db.Clusters.AsNoTracking().Where(c => ids.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        Now = clock.GetUtcNow();
        return true;
    }
}

using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Pages.Allocations;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Allocations;

/// <summary>An allocation for admins: everything the PI sees (members included, which admins manage too) plus suspend/resume/close, adjust, transfer, supplement decisions and the Slurm account.</summary>
public sealed class DetailsModel(PortalDbContext db, AllocationService allocations, AllocationMembers members, ProgressReports reports, TimeProvider clock) : PageModel
{
    public AllocationOverview Overview { get; private set; } = null!;

    /// <summary>Clusters hours may be moved or advanced to (any not retired), by name.</summary>
    public IReadOnlyList<(Guid Id, string Name)> Clusters { get; private set; } = [];

    /// <summary>The PI's submitted proposals whose decision is not released: what an advance can be made against.</summary>
    public IReadOnlyList<(Guid Id, string Title)> Renewals { get; private set; } = [];

    public bool CanChangeAccount { get; private set; }

    /// <summary>The due date the "ask for a progress report now" form suggests: a month from today.</summary>
    public DateOnly AskDueOn { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid id) => await LoadAsync(id) ? Page() : NotFound();

    public Task<IActionResult> OnPostSuspendAsync(Guid id, string reason) =>
        ActAsync(id, () => allocations.SuspendAsync(id, reason ?? "", User.GetUserId()), "Allocation suspended.");

    public Task<IActionResult> OnPostResumeAsync(Guid id, string reason) =>
        ActAsync(id, () => allocations.ResumeAsync(id, reason ?? "", User.GetUserId()), "Allocation resumed.");

    public Task<IActionResult> OnPostCloseAsync(Guid id, string reason) =>
        ActAsync(id, () => allocations.CloseAsync(id, reason ?? "", User.GetUserId()), "Allocation closed.");

    public Task<IActionResult> OnPostAdjustAsync(Guid id, Guid clusterId, decimal hours, string reason) =>
        ActAsync(id, () => allocations.AdjustAsync(id, clusterId, hours, reason ?? "", User.GetUserId()), "Adjustment recorded.");

    public Task<IActionResult> OnPostTransferAsync(Guid id, Guid fromClusterId, Guid toClusterId, decimal hours, string reason) =>
        ActAsync(id, () => allocations.TransferAsync(id, fromClusterId, toClusterId, hours, reason ?? "", User.GetUserId()), "Transfer recorded.");

    public Task<IActionResult> OnPostApproveAsync(Guid id, Guid requestId, decimal? hours, DateOnly? endDate, string? message) =>
        ActAsync(id, () => allocations.ApproveSupplementAsync(requestId, hours, endDate, message, User.GetUserId()), "Request approved.");

    public Task<IActionResult> OnPostDeclineAsync(Guid id, Guid requestId, string message) =>
        ActAsync(id, () => allocations.DeclineSupplementAsync(requestId, message ?? "", User.GetUserId()), "Request declined.");

    public Task<IActionResult> OnPostApproveTransferAsync(Guid id, Guid requestId, string? message) =>
        ActAsync(id, () => allocations.ApproveTransferAsync(requestId, message, User.GetUserId()), "Transfer approved.");

    public Task<IActionResult> OnPostDeclineTransferAsync(Guid id, Guid requestId, string message) =>
        ActAsync(id, () => allocations.DeclineTransferAsync(requestId, message ?? "", User.GetUserId()), "Transfer declined.");

    public Task<IActionResult> OnPostReleaseTrancheAsync(Guid id, string reason) =>
        ActAsync(id, () => allocations.ReleaseNextTrancheAsync(id, reason ?? "", User.GetUserId()), "Tranche released.");

    public Task<IActionResult> OnPostAdvanceAsync(Guid id, Guid proposalId, Guid clusterId, decimal hours, string reason) =>
        ActAsync(id, () => allocations.AdvanceAsync(id, proposalId, clusterId, hours, reason ?? "", User.GetUserId()), "Advance recorded.");

    public Task<IActionResult> OnPostAccountAsync(Guid id, string account) =>
        ActAsync(id, () => allocations.ChangeSlurmAccountAsync(id, account ?? "", User.GetUserId()), "Slurm account changed.");

    public Task<IActionResult> OnPostAcceptReportAsync(Guid id, Guid reportId) =>
        ActAsync(id, async () =>
        {
            if (!await reports.AcceptAsync(reportId, User.GetUserId()))
            {
                throw new DomainException("There is no such report.");
            }
        }, "Report accepted.");

    public Task<IActionResult> OnPostAskReportAsync(Guid id, DateOnly? dueOn) =>
        ActAsync(id, () => reports.AskAsync(id, dueOn ?? default, User.GetUserId()), "Progress report asked for: the team was told and sees it on its dashboard.");

    public Task<IActionResult> OnPostInviteMemberAsync(Guid id, string? memberEmail) =>
        MemberActions.InviteAsync(this, members, id, memberEmail, async () => await LoadAsync(id) ? Page() : NotFound());

    public Task<IActionResult> OnPostRemoveMemberAsync(Guid id, Guid userId) =>
        MemberActions.RemoveAsync(this, members, id, userId, async () => await LoadAsync(id) ? Page() : NotFound());

    /// <summary>Runs an admin's action; a refusal, or a value that could not be read, is shown above the page again.</summary>
    private async Task<IActionResult> ActAsync(Guid id, Func<Task> action, string done)
    {
        async Task<IActionResult> ShowAgain() => await LoadAsync(id) ? Page() : NotFound();
        if (!ModelState.IsValid)
        {
            // The forms are plain inputs, not bound fields: say above them what could not be read.
            ModelState.AddModelError("", "Some values could not be read: " + string.Join(" ", ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage)));
            return await ShowAgain();
        }
        return await this.RunAsync(async () =>
        {
            await action();
            TempData.Status(done);
            return RedirectToPage(new { id });
        }, ShowAgain);
    }

    private async Task<bool> LoadAsync(Guid id)
    {
        var now = clock.GetUtcNow();
        if (await AllocationOverview.LoadAsync(db, await this.ViewerAsync(), id, now, HttpContext.RequestAborted) is not { } overview)
        {
            return false;
        }
        Overview = overview;
        CanChangeAccount = overview.Report.Allocation.CanChangeSlurmAccount(now);
        AskDueOn = DateOnly.FromDateTime(now.UtcDateTime).AddDays(30);
        Clusters = [.. (await db.Clusters.AsNoTracking().Where(c => c.Status != Meta.ComputeAccess.Clusters.ClusterStatus.Retired).OrderBy(c => c.Name)
            .Select(c => new { c.Id, c.Name }).ToListAsync(HttpContext.RequestAborted)).Select(c => (c.Id, c.Name))];
        var pi = overview.Report.Allocation.PiUserId;
        Renewals = [.. (await db.Proposals.AsNoTracking()
            .Where(p => p.PiUserId == pi && p.SubmittedAt != null && p.DecisionReleasedAt == null && p.Status != Meta.ComputeAccess.Proposals.ProposalStatus.Withdrawn)
            .OrderBy(p => p.Title).Select(p => new { p.Id, p.Title }).ToListAsync(HttpContext.RequestAborted)).Select(p => (p.Id, p.Title))];
        return true;
    }
}

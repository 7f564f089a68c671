using System.Globalization;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Allocations;

/// <summary><c>/Allocations/{id}</c>: balances, burn-down, projection, ledger, members, cluster sync, jobs and history; 404 for anyone who may not see it.</summary>
public sealed class DetailsModel(PortalDbContext db, AllocationMembers members, TimeProvider clock) : PageModel
{
    public AllocationOverview Overview { get; private set; } = null!;

    public bool CanRequestSupplement { get; private set; }

    /// <summary>The viewer is on the allocation's team (and writes its reports); an admin who is not only reads them.</summary>
    public bool OnTeam { get; private set; }

    public Task<IActionResult> OnGetAsync(Guid id) => ShowAsync(id);

    /// <summary>The PI invites someone with an account to run jobs under the allocation.</summary>
    public Task<IActionResult> OnPostInviteMemberAsync(Guid id, string? memberEmail) =>
        MemberActions.InviteAsync(this, members, id, memberEmail, () => ShowAsync(id));

    public Task<IActionResult> OnPostRemoveMemberAsync(Guid id, Guid userId) =>
        MemberActions.RemoveAsync(this, members, id, userId, () => ShowAsync(id));

    private async Task<IActionResult> ShowAsync(Guid id)
    {
        var viewer = await this.ViewerAsync();
        if (await AllocationOverview.LoadAsync(db, viewer, id, clock.GetUtcNow(), HttpContext.RequestAborted) is not { } overview)
        {
            return NotFound();
        }
        Overview = overview;
        var allocation = overview.Report.Allocation;
        CanRequestSupplement = allocation.IsOpen && allocation.MayRequestSupplement(viewer.UserId);
        OnTeam = await db.Allocations.OnTeamOf(viewer.UserId).AnyAsync(a => a.Id == id, HttpContext.RequestAborted);
        return Page();
    }

    /// <summary>
    /// Every job charged to the allocation as CSV (for the PI's reports), oldest first, streamed row by row so an
    /// allocation with millions of jobs costs no memory. Same visibility as the page, checked before anything is read.
    /// </summary>
    public async Task<IActionResult> OnGetJobsAsync(Guid id)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var account = await db.Allocations.VisibleTo(await this.ViewerAsync()).Where(a => a.Id == id).Select(a => a.SlurmAccount).SingleOrDefaultAsync(cancellationToken);
        if (account is null)
        {
            return NotFound();
        }
        var clusters = await (from q in db.AllocationQuotas
                              where q.AllocationId == id
                              join c in db.Clusters on q.ClusterId equals c.Id
                              select new { c.Id, c.Name }).ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        Response.ContentType = "text/csv; charset=utf-8";
        Response.Headers.ContentDisposition = $"attachment; filename=\"{account}-jobs.csv\"";
        await using var writer = new StreamWriter(Response.Body, new System.Text.UTF8Encoding(false), bufferSize: 64 * 1024);
        // submitted_at_utc tells apart two jobs with the same id (Slurm reuses ids); it is empty when the cluster sent none.
        await writer.WriteAsync("cluster,job_id,account,user,started_at_utc,ended_at_utc,elapsed_seconds,gpus,gpu_hours,state,submitted_at_utc\n");
        var jobs = db.UsageRecords.AsNoTracking().Where(u => u.AllocationId == id).OrderBy(u => u.EndedAt).ThenBy(u => u.JobId)
            .Select(u => new { u.ClusterId, u.JobId, u.Account, u.UserName, u.StartedAt, u.EndedAt, u.ElapsedSeconds, u.GpuCount, u.GpuHours, u.State, u.SubmittedAt });
        await foreach (var j in jobs.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            await writer.WriteAsync(string.Join(',',
                Csv.Escape(clusters.GetValueOrDefault(j.ClusterId, "?")), Csv.Escape(j.JobId), Csv.Escape(j.Account), Csv.Escape(j.UserName),
                j.StartedAt?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) ?? "", j.EndedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                j.ElapsedSeconds.ToString(CultureInfo.InvariantCulture), j.GpuCount.ToString(CultureInfo.InvariantCulture),
                j.GpuHours.ToString(CultureInfo.InvariantCulture), Csv.Escape(j.State),
                j.SubmittedAt?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) ?? "") + "\n");
        }
        await writer.FlushAsync(cancellationToken);
        return new EmptyResult();
    }
}

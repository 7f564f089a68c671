using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Calls;

/// <summary>The call's reviewer pool (profiles, loads), its review deadline, and every conflict of interest with its reason.</summary>
public sealed class ReviewersModel(PortalDbContext db, ReviewerPool pool, ReviewAssignments assignments) : CallStepPageModel(db)
{
    /// <param name="InstitutionVerified">The institution came from the reviewer's identity provider (conflicts on it are trustworthy).</param>
    public sealed record PoolLine(Guid UserId, string Name, string Email, string Institution, IReadOnlyList<string> Keywords, int MaxLoad, int Assigned, int Bids,
        bool InstitutionVerified, string? OrcidId, bool OrcidIdVerified);

    /// <param name="Lapsed">No longer detected (a team or a profile changed) before an admin looked at it.</param>
    public sealed record ConflictLine(Guid Id, string Proposal, string Reviewer, ConflictSource Source, string Reason, ConflictStatus Status, bool Lapsed);

    public string Slug { get; private set; } = "";

    public string CallTitle { get; private set; } = "";

    public DateTimeOffset? ReviewDeadline { get; private set; }

    public string TimeZoneId { get; private set; } = "UTC";

    public IReadOnlyList<PoolLine> Pool { get; private set; } = [];

    public IReadOnlyList<ConflictLine> Conflicts { get; private set; } = [];

    [BindProperty]
    public string Email { get; set; } = "";

    public Task<IActionResult> OnPostAddAsync(string slug, CancellationToken cancellationToken) =>
        ActAsync(slug, async callId =>
        {
            await pool.AddAsync(callId, Email, User.GetUserId(), cancellationToken);
            return "Added to the pool; conflicts checked.";
        }, cancellationToken, field: "Email");

    public Task<IActionResult> OnPostRemoveAsync(string slug, Guid userId, CancellationToken cancellationToken) =>
        ActAsync(slug, async callId =>
        {
            await pool.RemoveAsync(callId, userId, User.GetUserId(), cancellationToken);
            return "Removed from the pool.";
        }, cancellationToken);

    public Task<IActionResult> OnPostProfileAsync(string slug, Guid userId, string? keywords, int maxLoad, CancellationToken cancellationToken) =>
        ActAsync(slug, async callId =>
        {
            await pool.UpdateProfileAsync(callId, userId, (keywords ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), maxLoad, User.GetUserId(), cancellationToken);
            return "Profile saved.";
        }, cancellationToken);

    public Task<IActionResult> OnPostDetectAsync(string slug, CancellationToken cancellationToken) =>
        ActAsync(slug, async callId => $"{English.Count(await pool.DetectAsync(callId, cancellationToken), "new conflict")} found.", cancellationToken);

    public Task<IActionResult> OnPostConfirmAsync(string slug, Guid conflictId, CancellationToken cancellationToken) =>
        ActAsync(slug, async _ =>
        {
            await pool.ConfirmAsync(conflictId, User.GetUserId(), cancellationToken);
            return "Conflict confirmed.";
        }, cancellationToken);

    public Task<IActionResult> OnPostClearAsync(string slug, Guid conflictId, CancellationToken cancellationToken) =>
        ActAsync(slug, async _ =>
        {
            await pool.ClearAsync(conflictId, User.GetUserId(), cancellationToken);
            return "Conflict cleared: the reviewer may now see and review the proposal.";
        }, cancellationToken);

    public async Task<IActionResult> OnPostDeadlineAsync(string slug, string? deadline, CancellationToken cancellationToken)
    {
        DateTimeOffset? utc = null;
        if (!string.IsNullOrWhiteSpace(deadline))
        {
            if (!UserTime.TryParseInput(deadline, User.TimeZone(), out var parsed, out var error))
            {
                ModelState.AddModelError(nameof(deadline), error);
                return await OnGetAsync(slug, cancellationToken);
            }
            utc = parsed;
        }
        return await ActAsync(slug, async callId =>
        {
            await assignments.SetDeadlineAsync(callId, utc, User.GetUserId(), cancellationToken);
            return "Review deadline saved.";
        }, cancellationToken, field: nameof(deadline));
    }

    protected override async Task LoadAsync(Guid callId, CancellationToken cancellationToken)
    {
        var call = await Db.Calls.AsNoTracking().SingleAsync(c => c.Id == callId, cancellationToken);
        Slug = call.Slug;
        CallTitle = call.Title;
        ReviewDeadline = call.ReviewDeadline;
        TimeZoneId = call.TimeZoneId;
        Pool = await (from m in Db.ReviewerPool.AsNoTracking()
                      where m.CallId == callId
                      join u in Db.Users on m.UserId equals u.Id
                      orderby u.FullName
                      select new PoolLine(m.UserId, u.FullName, u.Email ?? "", u.Institution, m.Keywords, m.MaxLoad,
                          Db.Reviews.Count(r => r.CallId == callId && r.ReviewerUserId == m.UserId),
                          Db.ReviewBids.Count(b => b.CallId == callId && b.ReviewerUserId == m.UserId),
                          u.InstitutionVerified, u.OrcidId, u.OrcidIdVerified))
            .ToListAsync(cancellationToken);
        Conflicts = await (from c in Db.ReviewConflicts.AsNoTracking()
                           where c.CallId == callId
                           join p in Db.Proposals on c.ProposalId equals p.Id
                           join u in Db.Users on c.ReviewerUserId equals u.Id
                           orderby p.Title, u.FullName
                           select new ConflictLine(c.Id, p.Title, u.FullName, c.Source, c.Reason, c.Status, c.Status == ConflictStatus.Cleared && c.ResolvedByUserId == null))
            .ToListAsync(cancellationToken);
    }
}

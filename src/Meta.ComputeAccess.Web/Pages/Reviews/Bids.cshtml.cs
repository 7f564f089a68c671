using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Reviews;

/// <summary>
/// A reviewer's profile for a call (expertise keywords, maximum load, collaborators) and their bids on its proposals.
/// Lists only what <see cref="ReviewVisibility.BiddableBy"/> allows; the team is hidden in double-blind calls. Declaring a
/// collaborator answers the same whatever the address, and the list shows the addresses as typed.
/// </summary>
public sealed class BidsModel(PortalDbContext db, Bidding bidding, ReviewerPool pool) : PageModel
{
    public sealed record Line(Guid Id, string Title, string Abstract, IReadOnlyList<string> Keywords, string? Team, Bid? Bid);

    public string Slug { get; private set; } = "";

    public string CallTitle { get; private set; } = "";

    public bool DoubleBlind { get; private set; }

    public IReadOnlyList<Line> Proposals { get; private set; } = [];

    public IReadOnlyList<string> Collaborators { get; private set; } = [];

    [BindProperty]
    public string Keywords { get; set; } = "";

    [BindProperty]
    public int MaxLoad { get; set; }

    [BindProperty]
    public string CollaboratorEmail { get; set; } = "";

    public async Task<IActionResult> OnGetAsync(string slug, CancellationToken cancellationToken)
    {
        if (await CallAsync(slug, cancellationToken) is not { } call)
        {
            return NotFound();
        }
        await LoadAsync(call, cancellationToken);
        return Page();
    }

    public Task<IActionResult> OnPostBidAsync(string slug, Guid proposalId, Bid bid, CancellationToken cancellationToken) =>
        ActAsync(slug, "", async call => await bidding.PlaceAsync(call.Id, proposalId, User.GetUserId(), bid, cancellationToken)
            ? (bid == Bid.Conflict ? "Conflict declared: the proposal is hidden from you." : "Bid saved.")
            : null, cancellationToken);

    public Task<IActionResult> OnPostProfileAsync(string slug, CancellationToken cancellationToken) =>
        ActAsync(slug, nameof(Keywords), async call =>
        {
            await pool.UpdateProfileAsync(call.Id, User.GetUserId(), Keywords.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), MaxLoad, null, cancellationToken);
            return "Profile saved.";
        }, cancellationToken);

    public Task<IActionResult> OnPostCollaboratorAsync(string slug, CancellationToken cancellationToken) =>
        ActAsync(slug, nameof(CollaboratorEmail), async _ =>
        {
            await pool.DeclareCollaboratorAsync(User.GetUserId(), CollaboratorEmail, cancellationToken);
            return "Collaborator declared. Conflicts with your collaborators are checked when reviewers are assigned.";
        }, cancellationToken);

    public Task<IActionResult> OnPostRemoveCollaboratorAsync(string slug, string email, CancellationToken cancellationToken) =>
        ActAsync(slug, nameof(CollaboratorEmail), async _ =>
        {
            await pool.RemoveCollaboratorAsync(User.GetUserId(), email, cancellationToken);
            return "Collaborator removed from your list.";
        }, cancellationToken);

    /// <summary>Runs a review module action (which saves itself) for the call; a null message means 404.</summary>
    private async Task<IActionResult> ActAsync(string slug, string field, Func<Call, Task<string?>> action, CancellationToken cancellationToken)
    {
        if (await CallAsync(slug, cancellationToken) is not { } call)
        {
            return NotFound();
        }
        return await this.RunAsync(
            async () =>
            {
                if (await action(call) is not { } message)
                {
                    return NotFound();
                }
                TempData.Status(message);
                return RedirectToPage(new { slug });
            },
            async () =>
            {
                await LoadAsync(call, cancellationToken);
                return Page();
            },
            field);
    }

    /// <summary>The call, if the signed-in reviewer is in its pool; anyone else gets 404.</summary>
    private async Task<Call?> CallAsync(string slug, CancellationToken cancellationToken)
    {
        var me = User.GetUserId();
        return await db.Calls.AsNoTracking().Where(c => c.Slug == slug && db.ReviewerPool.Any(m => m.CallId == c.Id && m.UserId == me)).SingleOrDefaultAsync(cancellationToken);
    }

    private async Task LoadAsync(Call call, CancellationToken cancellationToken)
    {
        var me = User.GetUserId();
        Slug = call.Slug;
        CallTitle = call.Title;
        DoubleBlind = !ReviewVisibility.ShowsTeamToReviewers(call.ReviewMode);
        var member = await db.ReviewerPool.AsNoTracking().SingleAsync(m => m.CallId == call.Id && m.UserId == me, cancellationToken);
        if (!ModelState.ContainsKey(nameof(Keywords)) || ModelState.IsValid)
        {
            Keywords = string.Join(", ", member.Keywords);
            MaxLoad = member.MaxLoad;
        }
        var bids = await db.ReviewBids.AsNoTracking().Where(b => b.CallId == call.Id && b.ReviewerUserId == me).ToDictionaryAsync(b => b.ProposalId, b => b.Bid, cancellationToken);
        var rows = await db.Proposals.BiddableBy(member, call.ReviewMode).AsNoTracking().OrderBy(p => p.Title)
            .Select(p => new { p.Id, p.Title, p.AbstractMarkdown, p.Keywords, Pi = db.Users.Where(u => u.Id == p.PiUserId).Select(u => u.FullName + ", " + u.Institution).FirstOrDefault() })
            .ToListAsync(cancellationToken);
        Proposals = [.. rows.Select(p => new Line(p.Id, p.Title, p.AbstractMarkdown, p.Keywords, DoubleBlind ? null : p.Pi, bids.TryGetValue(p.Id, out var b) ? b : null))];
        Collaborators = await db.ReviewerCollaborators.AsNoTracking().Where(c => c.ReviewerUserId == me)
            .OrderBy(c => c.NormalizedEmail).Select(c => c.Email).ToListAsync(cancellationToken);
    }
}

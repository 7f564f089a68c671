using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Reviews;

/// <summary>A reviewer's home: the calls whose pool they are in, and their assigned reviews (conflicted ones never appear).</summary>
public sealed class IndexModel(PortalDbContext db) : PageModel
{
    public sealed record CallLine(string Slug, string Title, DateTimeOffset? Deadline);

    public sealed record AssignmentLine(Guid ProposalId, string Title, string Call, bool Submitted, DateTimeOffset? Deadline);

    public IReadOnlyList<CallLine> Calls { get; private set; } = [];

    public IReadOnlyList<AssignmentLine> Assignments { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var me = User.GetUserId();
        Calls = await (from m in db.ReviewerPool.AsNoTracking()
                       where m.UserId == me
                       join c in db.Calls on m.CallId equals c.Id
                       orderby c.Title
                       select new CallLine(c.Slug, c.Title, c.ReviewDeadline)).ToListAsync(cancellationToken);
        Assignments = await (from r in db.Reviews.OwnedBy(me).AsNoTracking()
                             join p in db.Proposals on r.ProposalId equals p.Id
                             join c in db.Calls on r.CallId equals c.Id
                             orderby r.SubmittedAt != null, p.Title
                             select new AssignmentLine(p.Id, p.Title, c.Title, r.SubmittedAt != null, c.ReviewDeadline)).ToListAsync(cancellationToken);
    }
}

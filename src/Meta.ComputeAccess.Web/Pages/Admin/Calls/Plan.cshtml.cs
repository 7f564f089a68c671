using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Calls;

/// <summary>The award planner over the calibrated ranking: each line explains itself; the plan can be adopted as decisions.</summary>
public sealed class PlanModel(PortalDbContext db, AwardPlanning planning) : CallStepPageModel(db)
{
    public string Slug { get; private set; } = "";

    public string CallTitle { get; private set; } = "";

    public CallAwardPlan Plan { get; private set; } = null!;

    public Task<IActionResult> OnPostAdoptAsync(string slug, CancellationToken cancellationToken) =>
        ActAsync(slug, async callId =>
            $"The plan is recorded as {await planning.AdoptAsync(callId, User.GetUserId(), cancellationToken)} decisions. Edit any of them, then release them together from the ranking.",
            cancellationToken, then: "Ranking");

    protected override async Task LoadAsync(Guid callId, CancellationToken cancellationToken)
    {
        var call = await Db.Calls.AsNoTracking().Where(c => c.Id == callId).Select(c => new { c.Slug, c.Title }).SingleAsync(cancellationToken);
        Slug = call.Slug;
        CallTitle = call.Title;
        Plan = await planning.BuildAsync(callId, cancellationToken);
    }
}

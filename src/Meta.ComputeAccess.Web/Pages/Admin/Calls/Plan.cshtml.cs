using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Safety;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Calls;

/// <summary>
/// The award plan over the call's ranking: recorded decisions kept, the other reviewed proposals planned at what their
/// review supports within the budget, each line saying why; adopting it records those lines as the ranking page would.
/// </summary>
public sealed class PlanModel(PortalDbContext db, AwardPlanning planning, SafetyTrack safety) : CallStepPageModel(db)
{
    public string Slug { get; private set; } = "";

    public string CallTitle { get; private set; } = "";

    public CallAwardPlan Plan { get; private set; } = null!;

    /// <summary>The proposals in the safety track and their sign-off (an award is released only once signed off).</summary>
    public IReadOnlyDictionary<Guid, SafetyState> Safety { get; private set; } = new Dictionary<Guid, SafetyState>();

    public Task<IActionResult> OnPostAdoptAsync(string slug, string? fingerprint, CancellationToken cancellationToken) =>
        ActAsync(slug, async callId =>
            $"The plan is recorded: {English.Count(await planning.AdoptAsync(callId, fingerprint ?? "", User.GetUserId(), cancellationToken), "decision")}. Change any of them on the ranking page, then release them together.",
            cancellationToken, then: "Ranking");

    protected override async Task LoadAsync(Guid callId, CancellationToken cancellationToken)
    {
        var call = await Db.Calls.AsNoTracking().Where(c => c.Id == callId).Select(c => new { c.Slug, c.Title }).SingleAsync(cancellationToken);
        Slug = call.Slug;
        CallTitle = call.Title;
        Plan = await planning.BuildAsync(callId, cancellationToken);
        Safety = await safety.StatesAsync([.. Plan.Lines.Select(l => l.ProposalId)], cancellationToken);
    }
}
